import htm from 'htm';
import { h } from 'preact';

/** JSX-like templates without a compile step of our own (htm), rendered by Preact. */
export const html = htm.bind(h);
