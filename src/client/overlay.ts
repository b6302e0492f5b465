/// <reference lib="dom" />
/**
 * The development error overlay: a server started with `--hotload` adds `details` to Lua
 * errors (message, file and line, source lines, traceback) and the client shows them in a
 * panel over the page; variable 1's `ui-dev-error` property set to `""` (the next batch or
 * reload that succeeded) clears it. A page whose app never started reloads then, to start.
 *
 * @module
 */

/** The overlay's details of one error, as the server sends them. */
export interface ErrorDetails {
  kind: string;
  message: string;
  file?: string;
  line?: number;
  source?: { line: number; text: string }[];
  traceback?: string;
}

/**
 * Reads details from an error message's `details` field; undefined when absent or malformed.
 *
 * @example
 * ```ts
 * import { readDetails } from "./overlay.ts";
 * readDetails({ kind: "Lua error", message: "boom" })?.message; // "boom"
 * readDetails("nonsense"); // undefined
 * ```
 */
export function readDetails(value: unknown): ErrorDetails | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const details = value as Partial<ErrorDetails>;
  if (typeof details.message !== "string" || typeof details.kind !== "string") return undefined;
  return details as ErrorDetails;
}

/**
 * The overlay.
 *
 * @example
 * ```ts
 * import { ErrorOverlay } from "./overlay.ts";
 * const overlay = new ErrorOverlay(document);
 * overlay.show({ kind: "Lua error", message: "boom", file: "main.lua", line: 3 });
 * overlay.clear();
 * ```
 */
export class ErrorOverlay {
  readonly #document: Document;
  #element: HTMLElement | undefined;
  #startFailed = false;

  /** An overlay for `document`, shown on the first error. */
  constructor(document: Document) {
    this.#document = document;
  }

  /** Shows an error (the latest replaces what was shown). */
  show(details: ErrorDetails): void {
    if (details.kind === "Start-up") this.#startFailed = true;
    const d = this.#document;
    const make = (tag: string, className: string, text?: string) => {
      const element = d.createElement(tag);
      element.className = className;
      if (text !== undefined) element.textContent = text;
      return element;
    };
    this.#element?.remove();
    const panel = this.#element = make("section", "ui-dev-overlay");
    panel.setAttribute("role", "alertdialog");
    panel.setAttribute("aria-label", `${details.kind}: ${details.message}`);
    const head = make("header", "ui-dev-head");
    head.append(make("strong", "ui-dev-kind", details.kind));
    if (details.file) {
      const where = details.line ? `lua/${details.file}:${details.line}` : `lua/${details.file}`;
      head.append(make("span", "ui-dev-where", where));
    }
    const close = make("button", "ui-dev-close", "✕") as HTMLButtonElement;
    close.type = "button";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", () => this.#remove());
    head.append(close);
    panel.append(head, make("pre", "ui-dev-message", details.message));
    if (details.source && details.source.length > 0) {
      const source = make("pre", "ui-dev-source");
      for (const { line, text } of details.source) {
        const row = make("span", line === details.line ? "ui-dev-line current" : "ui-dev-line");
        row.textContent = `${String(line).padStart(4)} │ ${text}\n`;
        source.append(row);
      }
      panel.append(source);
    }
    if (details.traceback) panel.append(make("pre", "ui-dev-traceback", details.traceback));
    panel.append(make("p", "ui-dev-hint", "Fix the file and save: this clears itself."));
    d.body.append(panel);
  }

  /** True while an error is shown. */
  get shown(): boolean {
    return this.#element !== undefined;
  }

  /** The server says the last batch or reload succeeded. */
  clear(): void {
    this.#remove();
    // The app had never started; it just did, and this page has no view of it yet.
    if (this.#startFailed) location.reload();
  }

  #remove(): void {
    this.#element?.remove();
    this.#element = undefined;
  }
}
