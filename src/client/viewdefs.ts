/// <reference lib="dom" />
/**
 * The client's viewdefs: templates received as variable 1's `viewdefs` property (a JSON string
 * of `{"TYPE.NAMESPACE": "<template>...</template>"}`), and the lookup of SPEC 14: the
 * namespace, then the fallback namespace, then `DEFAULT`.
 *
 * @module
 */

/** A template ready to clone. */
export interface Viewdef {
  /** Its key, `TYPE.NAMESPACE`. */
  key: string;
  template: HTMLTemplateElement;
  /** Bumped each time the key is received with different text. */
  version: number;
}

/**
 * Holds the templates.
 *
 * @example
 * ```ts
 * import { ViewdefStore } from "./viewdefs.ts";
 * const store = new ViewdefStore();
 * store.addJson('{"App.DEFAULT":"<template><h1>Hi</h1></template>"}');
 * store.lookup("App", undefined, undefined)?.key; // "App.DEFAULT"
 * ```
 */
export class ViewdefStore {
  readonly #viewdefs = new Map<string, Viewdef>();
  readonly #sources = new Map<string, string>();

  /** Adds templates from the JSON text; returns the keys that are new or changed. */
  addJson(json: string): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      console.error("Viewdefs are not valid JSON");
      return [];
    }
    if (parsed === null || typeof parsed !== "object") return [];
    const changed: string[] = [];
    for (const [key, text] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof text !== "string" || this.#sources.get(key) === text) continue;
      const template = parseTemplate(key, text);
      if (!template) continue;
      const version = (this.#viewdefs.get(key)?.version ?? 0) + 1;
      this.#sources.set(key, text);
      this.#viewdefs.set(key, { key, template, version });
      changed.push(key);
    }
    return changed;
  }

  /** The viewdef of a key. */
  get(key: string): Viewdef | undefined {
    return this.#viewdefs.get(key);
  }

  /** The template for a type: `TYPE.namespace`, else `TYPE.fallback`, else `TYPE.DEFAULT`. */
  lookup(
    type: string,
    namespace: string | undefined,
    fallback: string | undefined,
  ): Viewdef | undefined {
    for (const ns of [namespace, fallback, "DEFAULT"]) {
      if (!ns) continue;
      const found = this.#viewdefs.get(`${type}.${ns}`);
      if (found) return found;
    }
    return undefined;
  }
}

/** The `<template>` element of a viewdef's text (text without one is wrapped in one). */
function parseTemplate(key: string, text: string): HTMLTemplateElement | undefined {
  const holder = document.createElement("template");
  holder.innerHTML = text.trim();
  const elements = [...holder.content.children];
  const [first] = elements;
  if (elements.length === 1 && first instanceof HTMLTemplateElement) return first;
  if (elements.some((element) => element instanceof HTMLTemplateElement)) {
    console.error(`Viewdef ${key} must be exactly one <template> element`);
    return undefined;
  }
  return holder;
}
