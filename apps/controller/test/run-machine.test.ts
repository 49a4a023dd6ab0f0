import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunState } from '@catchment/core';
import type { SignalLevel } from '@catchment/safety';
import { STEPS } from '@catchment/testkit/world';
import fc from 'fast-check';
import { activeStages, decide, initialMemory, type Memory, type StageStatus } from '../src/run-machine.ts';
import { stagesOf } from '../src/stages.ts';

// The demo's steps, the withdrawal with an improveBy (one more verify window when the signal drops by 0.05).
const stages = stagesOf(
  STEPS.map((s) => (s.kind === 'withdraw-unicast' ? { ...s, verify: { within: '2m', improveBy: 0.05 } } : s)),
  { verifyMs: 120_000, dwellMs: 300_000 },
);

/**
 * The pure state machine under random signals and clocks, carried out by a minimal
 * in-memory executor (the real one is tested on the databases): it acts only while the
 * signal is over, undoes only the top stage and only after the dwell under the exit
 * threshold, and resolves only when nothing is left in place.
 */
describe('run state machine (properties)', () => {
  it('escalates only while over, recovers in reverse after dwell, resolves only when empty', () => {
    const step = fc.record({
      level: fc.oneof(
        { arbitrary: fc.constant<SignalLevel>('over'), weight: 6 },
        { arbitrary: fc.constant<SignalLevel>('between'), weight: 1 },
        { arbitrary: fc.constant<SignalLevel>('under'), weight: 3 },
        { arbitrary: fc.constant<SignalLevel>('unknown'), weight: 1 },
      ),
      advanceMs: fc.integer({ min: 0, max: 12 * 60_000 }),
      value: fc.integer({ min: 0, max: 200 }).map((x) => x / 100),
      approve: fc.boolean(),
      refuse: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
    });
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.constantFrom<'auto' | 'approve'>('auto', 'approve'),
        fc.array(step, { minLength: 1, maxLength: 150 }),
        (mode, seq) => {
          let now = Date.parse('2026-11-22T02:00:00Z');
          let state: RunState = 'triggered';
          let memory: Memory = initialMemory(new Date(now), 1);
          const statuses = new Map<number, StageStatus>();
          const appliedAt = new Map<number, number>();
          for (const s of seq) {
            now += s.advanceMs;
            for (let guard = 0; guard < 20; guard++) {
              const view = {
                state,
                mode,
                memory,
                stages,
                statuses,
                level: s.level,
                value: s.value,
                now: new Date(now),
                blocked: false,
              };
              const d = decide(view);
              const active = activeStages(view);
              seen.add(d.type);
              if (d.type === 'hold') {
                if (d.memory) memory = { ...memory, ...d.memory };
                break;
              }
              memory = { ...memory, seq: memory.seq + 1 };
              switch (d.type) {
                case 'apply':
                case 'propose': {
                  assert.equal(s.level, 'over', `${d.type} while ${s.level}`);
                  assert.equal(d.index, memory.cursor);
                  const stage = stages[d.index];
                  assert.ok(stage);
                  if (d.type === 'propose') {
                    statuses.set(d.index, {
                      state: s.approve ? 'approved' : 'awaiting-approval',
                      startedAt: new Date(now),
                    });
                    state = 'awaiting-approval';
                    break;
                  }
                  if (s.refuse && stage.step.kind !== 'notify') {
                    statuses.set(d.index, { state: 'refused', startedAt: new Date(now) });
                    memory.cursor = stages.findIndex((x) => x.position > stage.position);
                    if (memory.cursor < 0) memory.cursor = stages.length;
                    state = 'acting';
                    break;
                  }
                  if (stage.step.kind === 'notify') {
                    statuses.set(d.index, { state: 'sent', startedAt: new Date(now) });
                  } else {
                    const prev = stages[d.index - 1];
                    if (stage.stage > 0 && prev && statuses.get(prev.index)?.state === 'applied') {
                      statuses.set(prev.index, { state: 'superseded', startedAt: new Date(now) });
                    }
                    statuses.set(d.index, { state: 'applied', startedAt: new Date(now) });
                    appliedAt.set(d.index, now);
                    memory = {
                      ...memory,
                      phaseSince: new Date(now).toISOString(),
                      exitSince: null,
                      extended: false,
                      valueAtPhase: s.value,
                    };
                  }
                  memory.cursor = d.index + 1;
                  state = 'acting';
                  break;
                }
                case 'undo': {
                  assert.equal(s.level, 'under', 'undo only under the exit threshold');
                  assert.equal(d.index, active.at(-1), 'undo the top stage');
                  const stage = stages[d.index];
                  assert.ok(stage && memory.exitSince);
                  assert.ok(now - Date.parse(memory.exitSince) >= stage.dwellMs, 'exit threshold held for the dwell');
                  assert.ok(now - Date.parse(memory.phaseSince) >= stage.dwellMs, 'last change at least the dwell ago');
                  statuses.set(d.index, { state: 'reverted', startedAt: new Date(now) });
                  const prev = stages[d.index - 1];
                  if (stage.stage > 0 && prev && statuses.get(prev.index)?.state === 'superseded') {
                    statuses.set(prev.index, { state: 'applied', startedAt: new Date(now) });
                  }
                  memory = { ...memory, cursor: d.index, phaseSince: new Date(now).toISOString() };
                  state = 'recovering';
                  break;
                }
                case 'resolve':
                  assert.equal(active.length, 0, 'resolved with nothing in place');
                  assert.equal(s.level, 'under');
                  state = 'resolved';
                  break;
                case 'mitigated':
                  assert.notEqual(s.level, 'over');
                  state = 'mitigated';
                  break;
                case 'cancel':
                  assert.notEqual(s.level, 'over');
                  statuses.set(d.index, { state: 'cancelled', startedAt: new Date(now) });
                  state = 'mitigated';
                  break;
                case 'reescalate':
                  assert.equal(s.level, 'over');
                  state = 'acting';
                  memory = { ...memory, phaseSince: new Date(now).toISOString(), exitSince: null };
                  break;
                case 'skip':
                case 'extend':
                case 'exhausted':
                  if (d.type === 'exhausted') memory.exhaustedNotified = true;
                  if (d.type === 'extend') {
                    const top = stages[active.at(-1) ?? -1];
                    assert.equal(s.level, 'over');
                    assert.ok(
                      top?.improveBy !== undefined && !memory.extended,
                      'one extension, only where improveBy is set',
                    );
                    memory = {
                      ...memory,
                      extended: true,
                      phaseSince: new Date(now).toISOString(),
                      valueAtPhase: s.value,
                    };
                  }
                  break;
              }
              // At most one stage of each dns-shift schedule is in place.
              const shiftActive = activeStages({ statuses }).filter((i) => stages[i]?.step.kind === 'dns-shift');
              assert.ok(shiftActive.length <= 1, `dns-shift stages in place: ${shiftActive}`);
              if (state === 'resolved') break;
            }
            if (state === 'resolved') break;
          }
        },
      ),
      { numRuns: 3000 },
    );
    for (const t of [
      'apply',
      'propose',
      'undo',
      'resolve',
      'mitigated',
      'reescalate',
      'cancel',
      'exhausted',
      'extend',
    ]) {
      assert.ok(seen.has(t), `some sequence led to ${t}: ${[...seen]}`);
    }
  });
});
