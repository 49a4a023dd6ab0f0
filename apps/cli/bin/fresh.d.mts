/** The CLI bundle's URL when it is up to date, else undefined (fresh.mjs). */
export function bundleUrl(dist?: URL): string | undefined;
