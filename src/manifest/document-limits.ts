// Bounds on one parsed document, checked before anything walks it. A manifest is a few hundred
// nodes; what is far past that is an accident or an attack: deep nesting that overflows the stack of
// every recursive walker (validation, cloning, comparing), or YAML aliases that expand a few hundred
// bytes into billions of nodes ("billion laughs"). The YAML check runs on parser events, where an
// alias is one event: the cost is linear in the file, whatever the expansion would be.

import { EVENT_ID, type Event } from 'js-yaml';
import { MAX_MANIFEST_BYTES } from './read-manifest-file.js';

/** Deepest nesting of mappings and lists a document may have (a manifest needs about 6). */
export const MAX_DOCUMENT_DEPTH = 32;
/** Most mappings, lists and scalars one document may hold once its aliases are expanded. */
export const MAX_DOCUMENT_NODES = 10_000;
/** Most characters of scalar text one document may hold once expanded: a file's own limit. */
export const MAX_DOCUMENT_CHARS = MAX_MANIFEST_BYTES;

/** What a document would be once expanded. */
interface Extent {
  nodes: number;
  chars: number;
  /** Nesting levels below this node (0 for a scalar). */
  height: number;
}

const tooDeep = `is nested more than ${MAX_DOCUMENT_DEPTH} levels deep`;

/** Why `extent`, sitting under `depth` collections, is past a limit; undefined when within all. */
function overLimit(extent: Extent, depth: number): string | undefined {
  if (depth + extent.height > MAX_DOCUMENT_DEPTH) return tooDeep;
  if (extent.nodes > MAX_DOCUMENT_NODES) return `expands to more than ${MAX_DOCUMENT_NODES} values`;
  if (extent.chars > MAX_DOCUMENT_CHARS) return `expands to more than ${MAX_DOCUMENT_CHARS} characters of text`;
  return undefined;
}

/**
 * Checks each document of a YAML event stream (as `parseEvents` returns it). Returns, per document
 * in order, undefined when it is within the limits or the reason it is not. An alias counts as the
 * whole node it names, at the depth where it is used.
 */
export function checkYamlDocuments(events: Event[], source: string): (string | undefined)[] {
  const results: (string | undefined)[] = [];
  const anchors = new Map<string, Extent>();
  // stack[0] stands for the document; stack.length - 1 collections enclose the next node.
  const stack: { extent: Extent; anchor?: string }[] = [];
  /** Per anchor name, the collection its latest anchor opened (undefined: a scalar's). */
  const latest = new Map<string, { extent: Extent; anchor?: string } | undefined>();
  let problem: string | undefined;

  const anchorOf = (start: number, end: number) => (start >= 0 ? source.slice(start, end) : undefined);
  // A finished node joins its parent; the first limit crossed is the document's problem.
  const close = (extent: Extent, anchor: string | undefined) => {
    if (anchor !== undefined) anchors.set(anchor, extent);
    const parent = stack[stack.length - 1];
    if (!parent) return;
    parent.extent.nodes += extent.nodes;
    parent.extent.chars += extent.chars;
    parent.extent.height = Math.max(parent.extent.height, extent.height + 1);
    problem ??= overLimit(extent, stack.length - 1);
  };

  for (const event of events) {
    switch (event.type) {
      case EVENT_ID.DOCUMENT:
        stack.length = 0;
        stack.push({ extent: { nodes: 0, chars: 0, height: 0 } });
        problem = undefined;
        break;
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        const anchor = anchorOf(event.anchorStart, event.anchorEnd);
        const entry = { extent: { nodes: 1, chars: 0, height: 1 }, ...(anchor !== undefined ? { anchor } : {}) };
        if (anchor !== undefined) latest.set(anchor, entry);
        stack.push(entry);
        break;
      }
      case EVENT_ID.SCALAR: {
        const anchor = anchorOf(event.anchorStart, event.anchorEnd);
        if (anchor !== undefined) latest.set(anchor, undefined); // a later anchor of the name: aliases mean this one
        close({ nodes: 1, chars: event.valueEnd - event.valueStart, height: 0 }, anchor);
        break;
      }
      case EVENT_ID.ALIAS: {
        const name = source.slice(event.anchorStart, event.anchorEnd);
        // An alias inside the node it names (the name's latest anchor, still open) makes a cycle:
        // no walker, serialiser or copy ends on it.
        const named = latest.get(name);
        if (named !== undefined && stack.includes(named)) problem ??= 'has an alias inside the node it names (a recursive alias)';
        // An unknown anchor is the constructor's error to report; count it as one node here.
        close(anchors.get(name) ?? { nodes: 1, chars: 0, height: 0 }, undefined);
        break;
      }
      case EVENT_ID.POP: {
        const open = stack.pop();
        if (stack.length === 0) {
          results.push(problem);
          anchors.clear(); // anchors are scoped to their document
        } else if (open) {
          close(open.extent, open.anchor);
        }
        break;
      }
    }
  }
  return results;
}

/**
 * Checks one JSON value (JSON has no shared references). Never recurses deeper than
 * MAX_DOCUMENT_DEPTH + 1 nor visits more than MAX_DOCUMENT_NODES + 1 nodes.
 */
export function checkJsonDocument(value: unknown): string | undefined {
  const total: Extent = { nodes: 0, chars: 0, height: 0 };
  let problem: string | undefined;
  const visit = (v: unknown, depth: number): boolean => {
    total.nodes += 1;
    if (typeof v === 'string') total.chars += v.length;
    if (v !== null && typeof v === 'object') {
      if (depth + 1 > MAX_DOCUMENT_DEPTH) {
        problem = tooDeep;
        return false;
      }
      const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
      if (!Array.isArray(v)) {
        const keys = Object.keys(v as Record<string, unknown>);
        total.nodes += keys.length;
        for (const key of keys) total.chars += key.length;
      }
      for (const child of children) if (!visit(child, depth + 1)) return false;
    }
    problem = overLimit(total, 0);
    return problem === undefined;
  };
  visit(value, 0);
  return problem;
}
