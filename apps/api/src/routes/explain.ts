import type { Snapshot } from '@catchment/core';

export interface ExplainQuery {
  name: string;
  client: string;
  resolver?: string;
}
export type Explain = (snapshot: Snapshot, query: ExplainQuery) => unknown;
