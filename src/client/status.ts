/// <reference lib="dom" />
/**
 * The visible connection state: body classes `ui-connecting`, `ui-reconnecting` and
 * `ui-taken-over`, and a status banner (the page's `.ui-status` element, made if missing)
 * that says what is going on. Errors that concern no element are shown there too.
 *
 * @module
 */
import type { ConnectionState } from "./connection.ts";

const CLASSES: Record<ConnectionState, string | undefined> = {
  connecting: "ui-connecting",
  open: undefined,
  reconnecting: "ui-reconnecting",
  "taken-over": "ui-taken-over",
};

/** Shown only when connecting takes longer than this, to avoid a flash on every load. */
const CONNECTING_GRACE_MS = 1000;
/** How long an error notice stays. */
const NOTICE_MS = 10_000;

/**
 * The status banner.
 *
 * @example
 * ```ts
 * import { StatusBanner } from "./status.ts";
 * const status = new StatusBanner(document);
 * status.connection("reconnecting"); // body gets ui-reconnecting, the banner says so
 * ```
 */
export class StatusBanner {
  readonly #document: Document;
  readonly #element: HTMLElement;
  #state: ConnectionState = "connecting";
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Uses the document's `.ui-status` element, or adds one to the body. */
  constructor(document: Document) {
    this.#document = document;
    let element = document.querySelector<HTMLElement>(".ui-status");
    if (!element) {
      element = document.createElement("div");
      element.className = "ui-status";
      element.hidden = true;
      document.body.appendChild(element);
    }
    element.setAttribute("role", "status");
    element.setAttribute("aria-live", "polite");
    this.#element = element;
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Shows a connection state. */
  connection(state: ConnectionState): void {
    this.#state = state;
    const body = this.#document.body;
    for (const name of Object.values(CLASSES)) if (name) body.classList.remove(name);
    const name = CLASSES[state];
    if (name) body.classList.add(name);
    this.#clearTimer();
    switch (state) {
      case "open":
        return this.#hide();
      case "connecting":
        this.#hide();
        this.#timer = setTimeout(
          () => this.#show("connecting", "Connecting…"),
          CONNECTING_GRACE_MS,
        );
        return;
      case "reconnecting":
        return this.#show("reconnecting", "Connection lost. Reconnecting…");
      case "taken-over": {
        this.#show("taken-over", "This session is open in another window. ");
        const button = this.#document.createElement("button");
        button.type = "button";
        button.textContent = "Use it here";
        button.addEventListener("click", () => location.reload());
        this.#element.appendChild(button);
        return;
      }
    }
  }

  /** Shows an error that concerns no element for a while (unless the connection is down). */
  notice(text: string): void {
    if (this.#state !== "open") return;
    this.#clearTimer();
    this.#show("error", text);
    const close = this.#document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => this.#hide());
    this.#element.appendChild(close);
    this.#timer = setTimeout(() => this.#hide(), NOTICE_MS);
  }

  #show(kind: string, text: string): void {
    this.#element.dataset.kind = kind;
    this.#element.textContent = text;
    this.#element.hidden = false;
  }

  #hide(): void {
    this.#element.hidden = true;
    this.#element.textContent = "";
    delete this.#element.dataset.kind;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
