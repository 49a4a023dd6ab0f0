import type { Community } from '../community.ts';
import type { DesiredAnnouncement } from '../desired.ts';
import type { Prefix } from '../prefix.ts';

/** A route as a speaker holds it: originated locally, or exported to one peer. */
export interface SpeakerRoute {
  readonly prefix: Prefix;
  readonly communities: Community[];
}

export interface SessionState {
  /** Protocol (BIRD) or neighbor address (GoBGP). */
  readonly name: string;
  /** Up when the session is Established; else the BGP FSM state (Idle, Connect, Active, ...). */
  readonly established: boolean;
  readonly state: string;
  readonly info: string;
}

export interface RouteDiff {
  readonly add: DesiredAnnouncement[];
  readonly remove: SpeakerRoute[];
  /** Same prefix, different communities. */
  readonly update: DesiredAnnouncement[];
  readonly unchanged: number;
}

export interface ApplyResult {
  readonly changed: boolean;
  readonly diff: RouteDiff;
  /** The speaker confirmed the result (originated and, where sessions are up, exported routes match). */
  readonly confirmed: boolean;
  readonly durationMs: number;
}

/**
 * One BGP speaker driven declaratively: the desired set in, a diff, an atomic apply,
 * and read-back to confirm. Withdrawn entries of the set are simply not originated.
 */
export interface Speaker {
  readonly kind: string;
  /** Dry run: what apply would change. */
  plan(desired: DesiredAnnouncement[]): Promise<RouteDiff>;
  apply(desired: DesiredAnnouncement[]): Promise<ApplyResult>;
  /** Routes the speaker originates now (its own announcements). */
  originated(): Promise<SpeakerRoute[]>;
  /** Routes exported to one peer (after export filters). */
  exported(peer: string): Promise<SpeakerRoute[]>;
  sessions(): Promise<SessionState[]>;
  close(): Promise<void>;
}

export class SpeakerError extends Error {
  readonly code: 'SPEAKER_CONFIG_REFUSED' | 'SPEAKER_UNREACHABLE' | 'SPEAKER_COMMAND_FAILED' | 'SPEAKER_NOT_CONFIRMED';
  readonly output: string | undefined;
  constructor(code: SpeakerError['code'], message: string, output?: string) {
    super(message);
    this.name = 'SpeakerError';
    this.code = code;
    this.output = output;
  }
}
