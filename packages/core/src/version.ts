// Imported, not read from disk: a bundled release carries the version inside its code.
import pkg from '../../../package.json' with { type: 'json' };

/** Catchment's version (the workspace's package.json). */
export const VERSION: string = pkg.version;
