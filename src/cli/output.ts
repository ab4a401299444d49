// Where a CLI verb writes: one call per line. Verbs take it as a parameter so tests capture output.

export type Print = (line: string) => void;

export const printToStdout: Print = (line) => {
  process.stdout.write(`${line}\n`);
};

/** Collects lines (tests, and verbs that build a whole screen before printing). */
export function collectLines(): { print: Print; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return { print: (line) => lines.push(line), lines, text: () => lines.join('\n') };
}
