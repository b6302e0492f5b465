/**
 * Template-only paths: a client may create a variable only when a template of its parent's type
 * binds that path, with no more access and no other wrapper or presenter than the binding asks
 * for, or when it is a list item (an index path under any parent, read-only). Property updates
 * cannot change a variable's path, access, wrapper or presenter afterwards. `--open-paths` turns
 * the policy off.
 *
 * @module
 */
import { type Failure, newFailure, type Result } from "../failure.ts";
import type { BoundPath } from "../viewdefs/bound_paths.ts";
import type { ViewdefStore } from "../viewdefs/store.ts";
import type { Variable } from "../variables/variable.ts";
import type { BackendPolicy, CreateGrant, CreateRequest } from "./backend.ts";

/** Properties that decide what a variable reaches or runs: set by templates only. */
const SHAPE_PROPERTIES = ["wrapper", "itemWrapper", "create"] as const;
/** Properties an update may not change (besides the shape ones). */
const FIXED_PROPERTIES = new Set(["path", "access", ...SHAPE_PROPERTIES]);

const INDEX = /^\d+$/;

/**
 * The backend policy of template-only paths over a site's viewdefs (read at each check, so hot
 * reload applies at once).
 *
 * @example
 * ```ts
 * import { templateOnlyPolicy } from "./path_policy.ts";
 * import { ViewdefStore } from "../viewdefs/store.ts";
 * const policy = templateOnlyPolicy(new ViewdefStore(new Map([
 *   ["App.DEFAULT", `<template><input ui-value="name"></template>`],
 * ])));
 * const ask = (path: string) =>
 *   policy.mayCreate({ parent: undefined, parentType: "App", path, properties: new Map() }).ok;
 * ask("name"); // true
 * ask("secret"); // false
 * ```
 */
export function templateOnlyPolicy<V>(viewdefs: ViewdefStore): BackendPolicy<V> {
  return {
    mayCreate: (request) => checkCreate(viewdefs, request),
    maySetProperty: (variable, name, value) => checkProperty(variable, name, value),
  };
}

function checkCreate<V>(viewdefs: ViewdefStore, request: CreateRequest<V>): Result<CreateGrant> {
  const { parentType, properties } = request;
  if (request.path === undefined) {
    return refuse("A variable needs a path that a template binds");
  }
  const at = request.path.indexOf("?");
  const path = (at < 0 ? request.path : request.path.slice(0, at)).trim();
  if (INDEX.test(path)) return checkIndex(viewdefs, request, path);
  const bindings = viewdefs.bindings(parentType).forPath(path);
  if (bindings.length === 0) {
    return refuse(
      parentType === ""
        ? `No template binds '${path}' here: the parent has no type`
        : `No template of type ${parentType} binds '${path}'`,
    );
  }
  let why = "";
  for (const binding of bindings) {
    const shape = shapeMismatch(binding, properties);
    if (shape) {
      why = shape;
      continue;
    }
    const grant = accessGrant(binding, path, properties.get("access"));
    if (grant) return { ok: true, value: grant };
    why = `Access '${properties.get("access") ?? "rw"}' is more than the template allows`;
  }
  return refuse(`${why} for '${path}' on type ${parentType}`);
}

/** A list item: any index, read-only, wrapped only as the templates' lists wrap items. */
function checkIndex<V>(
  viewdefs: ViewdefStore,
  request: CreateRequest<V>,
  path: string,
): Result<CreateGrant> {
  const { properties, parent } = request;
  const access = properties.get("access");
  if (access !== undefined && access !== "r") {
    return refuse(`List item '${path}' is read-only`);
  }
  if (properties.has("create") || properties.has("itemWrapper")) {
    return refuse(`List item '${path}' cannot make a presenter`);
  }
  const wrapper = properties.get("wrapper");
  if (
    wrapper !== undefined && !viewdefs.itemWrappers().has(wrapper) &&
    parent?.properties.get("itemWrapper") !== wrapper &&
    parent?.parent?.properties.get("itemWrapper") !== wrapper
  ) {
    return refuse(`No template wraps list items with '${wrapper}'`);
  }
  return { ok: true, value: "read-only" };
}

/** Why the request's wrapper, item wrapper or presenter differs from the binding's, if it does. */
function shapeMismatch(binding: BoundPath, properties: ReadonlyMap<string, string>): string {
  for (const name of SHAPE_PROPERTIES) {
    const sent = properties.get(name);
    // Leaving one out only shows less (the plain value instead of a wrapper).
    if (sent !== undefined && sent !== binding.properties[name]) {
      return `Property ${name}='${sent}' is not the template's`;
    }
  }
  return "";
}

/** Access modes a binding's clients may ask for (both ui-engine's frontend and ours). */
function allowedAccess(binding: BoundPath, path: string): ReadonlySet<string> {
  const declared = binding.properties.access;
  if (declared !== undefined) return new Set([declared]);
  const getter = path.endsWith("()");
  const setter = path.endsWith("(_)");
  switch (binding.kind) {
    case "value":
      if (getter) return READ;
      if (setter) return CALL_WITH_VALUE;
      return editable(binding.tag) ? EDIT : READ;
    case "action":
      return getter || setter ? ACTION : ACTION_OR_WRITE;
    case "display":
    case "view":
      return READ;
  }
}

const READ: ReadonlySet<string> = new Set(["r"]);
const EDIT: ReadonlySet<string> = new Set(["r", "rw", "w"]);
const CALL_WITH_VALUE: ReadonlySet<string> = new Set(["w", "action"]);
const ACTION: ReadonlySet<string> = new Set(["action"]);
const ACTION_OR_WRITE: ReadonlySet<string> = new Set(["action", "w", "rw", "r"]);

/**
 * The access a binding grants for what was asked: as sent, read-only when nothing was asked
 * and the binding only reads (ui-engine's frontend leaves `access` out on views and lists), or
 * undefined when the binding does not allow it.
 */
function accessGrant(
  binding: BoundPath,
  path: string,
  asked: string | undefined,
): CreateGrant | undefined {
  const allowed = allowedAccess(binding, path);
  if (asked !== undefined) return allowed.has(asked) ? "as-sent" : undefined;
  const fallback = path.endsWith("(_)") ? "action" : "rw";
  if (allowed.has(fallback)) return "as-sent";
  return allowed.has("r") && !path.endsWith("(_)") ? "read-only" : undefined;
}

/** Elements whose `ui-value` edits: form fields and custom elements (as both clients see them). */
function editable(tag: string): boolean {
  if (READ_ONLY_CUSTOM.has(tag)) return false;
  return EDITABLE_TAGS.has(tag) || tag.includes("-");
}

const EDITABLE_TAGS = new Set([
  "input",
  "textarea",
  "select",
  // Elements with a `value` property, which ui-engine's frontend edits.
  "option",
  "li",
  "meter",
  "progress",
  "output",
  "data",
  "param",
]);
const READ_ONLY_CUSTOM = new Set([
  "sl-copy-button",
  "sl-option",
  "sl-progress-bar",
  "sl-progress-ring",
  "sl-qr-code",
]);

function checkProperty<V>(variable: Variable<V>, name: string, value: string): Failure | undefined {
  if (!FIXED_PROPERTIES.has(name) || variable.properties.get(name) === value) return undefined;
  return newFailure(
    "bad-access",
    `Property '${name}' is set when the variable is created, by its template`,
    variable.id,
  );
}

function refuse(description: string): Result<CreateGrant> {
  return { ok: false, failure: newFailure("bad-access", description) };
}
