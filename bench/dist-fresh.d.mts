/** Throws when a file under src/ (or ui/src/) is newer than dist/cli/main.js, or dist/ is missing. */
export function assertDistFresh(root?: string): void;
