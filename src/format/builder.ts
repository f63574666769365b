/**
 * Accumulates rendered text and entities while the Markdown tree is walked: block breaks are
 * written lazily (only before real content), list indentation continues on every new line, and
 * an entity starts at the first character written after it was opened, so none is empty.
 */
import type { FormatEntity, StyleType } from './types.js';

/** What an open entity becomes when closed. */
export type EntitySpec =
  | { readonly type: StyleType }
  | { readonly type: 'pre'; readonly language?: string }
  | { readonly type: 'text_link'; readonly url: string };

interface OpenEntity {
  readonly spec: EntitySpec;
  start: number; // -1 until something is written
}

/** The text under construction; see the module comment. */
export class TextBuilder {
  private text = '';
  private readonly entities: FormatEntity[] = [];
  private readonly open: OpenEntity[] = [];
  private pendingBreaks = 0;
  /** Indentation written after each newline (list item continuation). */
  indent = '';
  /** True right after a list marker: the item's first block starts on the marker's line. */
  atItemStart = false;

  /** Asks for `lines` newlines (1: new line, 2: blank line) before the next content. */
  block(lines: number): void {
    if (this.atItemStart) return;
    this.pendingBreaks = Math.max(this.pendingBreaks, lines);
  }

  /** Writes `content` (may hold newlines: each continues at the current indent). */
  write(content: string): void {
    if (content.length === 0) return;
    if (this.pendingBreaks > 0 && this.text.length > 0) {
      this.text += '\n'.repeat(this.pendingBreaks) + this.indent;
    }
    this.pendingBreaks = 0;
    this.atItemStart = false;
    for (const entity of this.open) if (entity.start === -1) entity.start = this.text.length;
    this.text += this.indent.length === 0 ? content : content.replaceAll('\n', `\n${this.indent}`);
  }

  /** Writes a line break inside a paragraph. */
  lineBreak(): void {
    this.write('\n');
  }

  /** Opens an entity over what is written until the matching `close`. */
  openEntity(spec: EntitySpec): void {
    this.open.push({ spec, start: -1 });
  }

  /** Closes the innermost open entity; drops it when nothing was written inside. */
  close(): void {
    const entity = this.open.pop();
    if (entity === undefined || entity.start === -1) return;
    const end = this.text.trimEnd().length;
    if (end > entity.start) this.entities.push({ ...entity.spec, offset: entity.start, length: end - entity.start });
  }

  /** How many code units are written so far (breaks still pending not counted). */
  finishedLength(): number {
    return this.text.length;
  }

  /** The text and entities so far (still open entities are closed at the end). */
  finish(): { text: string; entities: FormatEntity[] } {
    while (this.open.length > 0) this.close();
    return { text: this.text, entities: this.entities };
  }
}
