// Where each plain scalar of a YAML document came from, as the file writes it. YAML reads `1.0`,
// `0x1F` or `1e3` as numbers; when a string was meant, the hint should show the text the author
// typed, not the number it became.

import { EVENT_ID, getScalarValue, SCALAR_STYLE, type Event } from 'js-yaml';

interface Frame {
  kind: 'mapping' | 'sequence';
  /** JSON pointer of this collection; undefined inside a complex key (nothing there has a path). */
  pointer: string | undefined;
  index: number;
  expectKey: boolean;
  key: string | undefined;
}

/** JSON pointer -> source text of every plain (unquoted) scalar value in one document's events. */
export function plainScalarSources(events: Event[], source: string): Map<string, string> {
  const found = new Map<string, string>();
  const stack: Frame[] = [];

  // The pointer of the node that starts now, and whether it is a mapping key.
  const place = (keyText: () => string | undefined): { pointer: string | undefined; isKey: boolean } => {
    const frame = stack[stack.length - 1];
    if (!frame) return { pointer: '', isKey: false };
    if (frame.kind === 'sequence') return { pointer: frame.pointer === undefined ? undefined : `${frame.pointer}/${frame.index++}`, isKey: false };
    if (frame.expectKey) {
      frame.expectKey = false;
      frame.key = keyText();
      return { pointer: undefined, isKey: true };
    }
    frame.expectKey = true;
    const pointer = frame.pointer === undefined || frame.key === undefined ? undefined : `${frame.pointer}/${escapePointer(frame.key)}`;
    return { pointer, isKey: false };
  };

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const { pointer } = place(() => undefined);
        stack.push({ kind: event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence', pointer, index: 0, expectKey: true, key: undefined });
        break;
      }
      case EVENT_ID.SCALAR: {
        const { pointer, isKey } = place(() => getScalarValue(source, event));
        if (!isKey && pointer !== undefined && event.style === SCALAR_STYLE.PLAIN) {
          found.set(pointer, source.slice(event.valueStart, event.valueEnd));
        }
        break;
      }
      case EVENT_ID.ALIAS:
        place(() => undefined);
        break;
      case EVENT_ID.POP:
        stack.pop();
        break;
    }
  }
  return found;
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
