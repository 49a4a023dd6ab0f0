import { Type } from 'typebox';
import { Problem } from './problem.ts';

/** Error responses every route documents: RFC 9457 problem details. */
export const errorResponses = {
  '4xx': { description: 'problem details', content: { 'application/problem+json': { schema: Problem } } },
  '5xx': { description: 'problem details', content: { 'application/problem+json': { schema: Problem } } },
};

export const Reason = Type.String({ minLength: 1, maxLength: 1000, description: 'why: recorded in the audit log' });
export const Timestamp = Type.String({ format: 'date-time' });
