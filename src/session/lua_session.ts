/**
 * The seed card's `LuaSession`: one browser session's isolated Lua VM, its `session` table, app
 * variable and app object, variable store (the backend), wrapper registry, presenter types and a
 * serial executor for all of its Lua work.
 *
 * Transport-agnostic: it turns parsed frames into {@link Outgoing} batches and hands background
 * output (timers, reloads) to an `emit` callback that the session manager connects.
 *
 * @module
 */
import { type ApiHost, installApi, type LuaLogLevel, type SessionFunctions } from "../lua/api.ts";
import { lua, toLua } from "../lua/fengari.ts";
import { callMethod, getField } from "../lua/navigate.ts";
import { type AppModel, installAppModel, LUA_PROPERTY, VIEW_LIST } from "../lua/prototypes.ts";
import { openSandbox } from "../lua/sandbox.ts";
import { createTimers, type Timers } from "../lua/timers.ts";
import { createHandles } from "../lua/variable_handle.ts";
import { type LuaFailure, type LuaObject, type LuaValue, LuaVm } from "../lua/vm.ts";
import { createWrapperHost, WrapperRegistry } from "../lua/wrappers.ts";
import type { Logger } from "../log.ts";
import { emptyOutgoing, isEmpty, merge, type Outgoing } from "../protocol/batcher.ts";
import {
  type ClientMessage,
  type CreateMessage,
  errorData,
  type ParsedFrame,
  ProtocolError,
  type UpdateMessage,
} from "../protocol/messages.ts";
import type { Site } from "../site/site.ts";
import { viewdefType } from "../viewdefs/store.ts";
import type { Variable } from "../variables/tree.ts";
import { Backend } from "./backend.ts";
import { createExecutor, type Executor } from "./executor.ts";

/** Options of {@link LuaSession.create}. */
export interface LuaSessionOptions {
  vendedId: string;
  site: Site;
  log: Logger;
  instructionBudget: number;
  maxVariables: number;
  inlineLua: boolean;
  /** Extra `session` functions (prototypes, timers) made per session. */
  extensions?: (session: LuaSession) => SessionFunctions;
}

const NEW_KEY = toLua("new");

/**
 * A session: created with {@link LuaSession.create}, fed frames with {@link handleFrame}.
 *
 * @example
 * ```ts
 * import { LuaSession } from "./lua_session.ts";
 * import { EMBEDDED_SITE, loadSite } from "../site/site.ts";
 * import { silentLogger } from "../log.ts";
 * const session = LuaSession.create({
 *   vendedId: "1",
 *   site: await loadSite(EMBEDDED_SITE),
 *   log: silentLogger,
 *   instructionBudget: 10_000_000,
 *   maxVariables: 100_000,
 *   inlineLua: false,
 * });
 * const out = await session.handleFrame({ userEvent: false, items: [{ type: "watch", data: { varId: 1 } }] });
 * session.shutdown();
 * ```
 */
export class LuaSession implements ApiHost {
  /** Vended id: `"1"`, `"2"`, ... */
  readonly vendedId: string;
  /** This session's own VM. */
  readonly vm: LuaVm;
  /** Watches, messages and change detection. */
  readonly backend: Backend;
  /** Wrapper factories. */
  readonly wrappers: WrapperRegistry;
  /** Serialises every entry into Lua. */
  readonly executor: Executor;
  /** Types registered with `ui.registerPresenter`. */
  readonly presenterTypes = new Map<string, LuaValue>();
  /** The global `session` table. */
  readonly sessionTable: LuaObject;
  /** `require` cache. */
  readonly modules = new Map<string, LuaValue>();
  /** Site Lua files this session has run, for hot reload. */
  readonly loadedFiles = new Set<string>();
  /** Prototypes, mutation and the built-in list wrapper. */
  readonly appModel: AppModel;
  /** The session's timers. */
  readonly timers: Timers;
  /** Where background output goes; set by the session manager. */
  emit: (out: Outgoing) => void = () => {};
  readonly site: Site;
  readonly log: Logger;
  readonly #options: LuaSessionOptions;
  readonly #propertyWatchers = new Map<string, LuaObject[]>();
  /** Types whose viewdefs the current connection has. */
  readonly #sentTypes = new Set<string>();
  #appObject: LuaValue = null;
  #startupErrors: Outgoing = emptyOutgoing();

  private constructor(options: LuaSessionOptions) {
    this.#options = options;
    this.vendedId = options.vendedId;
    this.site = options.site;
    this.log = options.log;
    this.vm = new LuaVm({ instructionBudget: options.instructionBudget });
    openSandbox(this.vm, { print: (line) => this.log.info(`lua: ${line}`) });
    this.wrappers = new WrapperRegistry(this.vm);
    const handles = createHandles(this.vm, {
      variable: (id) => this.backend.tree.get(id),
      setProperty: (variable, name, value) => this.backend.setProperty(variable, name, value),
    });
    const wrapperHost = createWrapperHost(this.vm, this.wrappers, handles, this.log);
    this.backend = new Backend(this.vm, wrapperHost, {
      propertyChanged: (variable, name, value) => this.notifyPropertyChange(variable, name, value),
      instantiate: (name) => this.instantiate(name),
    }, { maxVariables: options.maxVariables });
    this.executor = createExecutor();
    this.timers = createTimers({
      vm: this.vm,
      executeInSession: (task) => this.executeInSession(task),
      timerFailed: (failure) => this.reportFailure("Timer callback", failure),
    });
    this.sessionTable = installApi(this, {
      ...this.timers.functions,
      ...options.extensions?.(this),
    });
    this.appModel = installAppModel({
      vm: this.vm,
      sessionTable: this.sessionTable,
      findType: (name) => this.findType(name),
      mutationFailed: (message) =>
        this.reportFailure("mutate()", { code: "lua-error", description: message }),
    });
    this.wrappers.registerBuiltin(VIEW_LIST, this.appModel.viewList);
  }

  /** Logs a failure and sends it to the client with the next flush. */
  reportFailure(what: string, failure: LuaFailure, varId?: number): void {
    this.log.warn(`${what} failed: ${failure.description}`);
    this.backend.reportError(errorData(failure.code, failure.description, varId));
  }

  /**
   * CreateLuaSession: builds the VM and runs `main.lua`. An error in `main.lua` is logged and
   * sent as `lua-error` with the first flush; the session stays usable.
   */
  static create(options: LuaSessionOptions): LuaSession {
    const session = new LuaSession(options);
    const failure = session.runFile("main.lua");
    if (failure) {
      session.log.error(`main.lua failed: ${failure.description}`);
      session.#startupErrors.errors.push(errorData(failure.code, failure.description));
    }
    return session;
  }

  /** GetLuaSession: this session when the vended id matches (per-session isolation). */
  getLuaSession(vendedId: string): LuaSession | undefined {
    return vendedId === this.vendedId ? this : undefined;
  }

  /**
   * Runs `lua/<file>` from the site in this session, as a new entry, then prototype mutation.
   * A file loaded as a module (`a/b.lua`) refreshes the `require` cache too.
   */
  runFile(file: string): LuaFailure | null {
    const source = this.readLua(file);
    if (source === undefined) {
      return { code: "lua-error", description: `No such file: lua/${file}` };
    }
    this.loadedFiles.add(file);
    const moduleName = file.slice(0, -4).replaceAll("/", ".");
    const isModule = this.modules.has(moduleName);
    this.vm.beginEntry();
    const L = this.vm.L;
    const top = lua.lua_gettop(L);
    const failure = this.vm.loadText(source, `@lua/${file}`);
    if (failure) return failure;
    lua.lua_pushstring(L, toLua(moduleName));
    const error = this.vm.pcall(1, 1);
    if (!error && isModule) {
      const value = this.vm.read(-1);
      this.modules.set(moduleName, value === null ? true : value);
    }
    lua.lua_settop(L, top);
    this.appModel.runMutations();
    return error;
  }

  /** Runs a chunk of Lua text in this session, as a new entry, then prototype mutation. */
  runCode(source: string, chunkName: string): LuaFailure | null {
    this.vm.beginEntry();
    const failure = this.vm.loadText(source, chunkName) ?? this.vm.pcall(0, 0);
    this.appModel.runMutations();
    return failure;
  }

  /** Re-runs a changed site file with `session.reloading` set (hot reload). */
  reload(file: string): LuaFailure | null {
    this.#setReloading(true);
    try {
      return this.runFile(file);
    } finally {
      this.#setReloading(false);
    }
  }

  #setReloading(value: boolean): void {
    const L = this.vm.L;
    this.sessionTable.push(L);
    lua.lua_pushboolean(L, value);
    lua.lua_setfield(L, -2, toLua("reloading"));
    lua.lua_pop(L, 1);
  }

  /** A presenter type, prototype or wrapper factory by name (for `create=` and `itemWrapper`). */
  findType(name: string): LuaValue {
    const presenter = this.presenterTypes.get(name);
    if (presenter !== undefined) return presenter;
    const proto = getField(this.vm, this.appModel.registry, toLua(name));
    if (proto.ok && proto.value !== null) return proto.value;
    return this.wrappers.find(name) ?? null;
  }

  /** `create=NAME`: a new instance of a presenter type, `NAME:new()`. */
  instantiate(name: string) {
    const type = this.findType(name);
    if (type === null) {
      return {
        ok: false as const,
        failure: { code: "lua-error" as const, description: `Unknown presenter type '${name}'` },
      };
    }
    return callMethod(this.vm, type, NEW_KEY, "new", []);
  }

  /** Source of a site Lua file. */
  readLua(path: string): string | undefined {
    return this.site.lua.get(path);
  }

  // ---- The `session` API -------------------------------------------------------------------

  /** createAppVariable: makes (or re-points) variable 1 at the app object. */
  createAppVariable(app: LuaValue, props: Map<string, string>): number {
    this.#appObject = app;
    const existing = this.backend.tree.get(1);
    if (existing) {
      existing.value = app;
      for (const [name, value] of props) this.backend.setProperty(existing, name, value);
    } else {
      this.backend.createLuaVariable(undefined, app, props, 1);
    }
    return 1;
  }

  /** getApp: the live app object (not a wrapper). */
  getApp(): LuaValue {
    return this.#appObject;
  }

  /** createVariable: a child of a variable (by id or by its value) with a negative id. */
  createVariable(parent: LuaValue, value: LuaValue, props: Map<string, string>): number {
    const parentVariable = parent === null ? undefined : this.#findVariable(parent);
    if (parent !== null && !parentVariable) throw new Error("Parent variable not found");
    return this.backend.createLuaVariable(parentVariable, value, props).id;
  }

  /** destroyVariable: by id or by the object it holds. */
  destroyVariable(target: LuaValue): void {
    const variable = this.#findVariable(target);
    if (!variable) throw new Error("Variable not found");
    this.backend.destroyVariable(variable);
  }

  #findVariable(target: LuaValue): Variable | undefined {
    if (typeof target === "number") return this.backend.tree.get(target);
    if (target === null || typeof target !== "object") return undefined;
    for (const variable of this.backend.tree.values()) {
      if (variable.value === target) return variable;
    }
    return undefined;
  }

  /** watchProperty: `fn(value)` runs when the client changes that property of the variable. */
  watchProperty(varId: number, name: string, fn: LuaObject): void {
    const key = `${varId}\u0000${name}`;
    const list = this.#propertyWatchers.get(key) ?? [];
    list.push(fn);
    this.#propertyWatchers.set(key, list);
  }

  /** NotifyPropertyChange: runs the Lua watchers of a property the client changed. */
  notifyPropertyChange(variable: Variable, name: string, value: string): void {
    if (variable.id === 1 && name === LUA_PROPERTY) return this.#loadLuaProperty(value);
    for (const fn of this.#propertyWatchers.get(`${variable.id}\u0000${name}`) ?? []) {
      const result = this.vm.call(fn, [value], 0);
      if (!result.ok) {
        throw new ProtocolError(result.failure.code, result.failure.description, variable.id);
      }
    }
  }

  /** SPEC 10.5: a `.lua` value loads that site file; anything else is inline code. */
  #loadLuaProperty(value: string): void {
    let failure: LuaFailure | null;
    if (value.endsWith(".lua")) {
      const file = value.replace(/^\/+/, "");
      if (
        file.split("/").some((part) => part === ".." || part === "") || !this.site.lua.has(file)
      ) {
        throw new ProtocolError("not-found", `No Lua file '${value}' in the site`, 1);
      }
      failure = this.runFile(file);
    } else {
      if (!this.#options.inlineLua) {
        throw new ProtocolError("forbidden", "Inline Lua is not allowed on this server", 1);
      }
      failure = this.runCode(value, "=inline");
    }
    if (failure) throw new ProtocolError(failure.code, failure.description, 1);
  }

  /** session:log and ui.log. */
  luaLog(level: LuaLogLevel, message: string): void {
    this.log[level](`lua: ${message}`);
  }

  /** `ui.registerPresenter`. */
  registerPresenter(name: string, proto: LuaValue): void {
    this.presenterTypes.set(name, proto);
  }

  /** `ui.registerWrapper`. */
  registerWrapper(name: string, factory: LuaValue): void {
    this.wrappers.register(name, factory);
  }

  // ---- Frames and batches -------------------------------------------------------------------

  /** HandleFrontendCreate / HandleFrontendUpdate and the rest: one frame, then AfterBatch. */
  handleFrame(frame: ParsedFrame): Promise<Outgoing> {
    return this.executor.run(() =>
      this.#balanced(() => {
        for (const item of frame.items) {
          if ("error" in item) this.backend.reportError(item.error);
          else if (item.type === "create") this.handleFrontendCreate(item);
          else if (item.type === "update") this.handleFrontendUpdate(item);
          else this.#handle(item);
        }
        return this.afterBatch();
      })
    );
  }

  /**
   * Runs a task and then empties the Lua stack: nothing lives on it between tasks, so an
   * unexpected JavaScript exception part way through cannot leave the session unusable.
   */
  #balanced<T>(task: () => T): T {
    try {
      return task();
    } finally {
      if (!this.vm.closed) lua.lua_settop(this.vm.L, 0);
    }
  }

  /** HandleFrontendCreate: a path-based variable created by the frontend. */
  handleFrontendCreate(message: CreateMessage): void {
    this.#handle(message);
  }

  /** HandleFrontendUpdate: a value written through a variable's path, or its properties. */
  handleFrontendUpdate(message: UpdateMessage): void {
    this.#handle(message);
  }

  #handle(message: ClientMessage): void {
    this.vm.beginEntry();
    this.backend.handle(message);
  }

  /** The app variable's id once `createAppVariable` ran (always 1), else undefined. */
  get appVariableId(): number | undefined {
    return this.backend.tree.get(1) ? 1 : undefined;
  }

  /** ExecuteInSession: runs a function as one entry of this session, then AfterBatch, then emits. */
  executeInSession(task: () => void): Promise<void> {
    return this.executor.run(() =>
      this.#balanced(() => {
        this.vm.beginEntry();
        task();
        const out = this.afterBatch();
        if (!isEmpty(out)) this.emit(out);
      })
    );
  }

  /** AfterBatch: change detection plus the viewdefs the connection has not seen yet. */
  afterBatch(): Outgoing {
    this.vm.beginEntry();
    const types = new Set<string>();
    const out = this.backend.afterBatch(types);
    if (!isEmpty(this.#startupErrors)) {
      merge(out, this.#startupErrors);
      this.#startupErrors = emptyOutgoing();
    }
    for (const type of types) {
      if (this.#sentTypes.has(type)) continue;
      this.#sentTypes.add(type);
      const found = this.site.viewdefs.forType(type);
      if (Object.keys(found).length > 0) out.viewdefs = { ...out.viewdefs, ...found };
    }
    return out;
  }

  /** Re-sends a changed viewdef if this session's connection has its type (hot reload). */
  resendViewdef(key: string): Promise<void> {
    return this.executor.run(() => {
      if (!this.#sentTypes.has(viewdefType(key))) return;
      const template = this.site.viewdefs.get(key);
      if (template === undefined) return;
      const out = emptyOutgoing();
      out.viewdefs = { [key]: template };
      this.emit(out);
    }).catch(() => {});
  }

  /** The connection closed: drop its variables and what it was sent. */
  connectionClosed(): void {
    this.backend.connectionClosed();
    this.#sentTypes.clear();
  }

  /** Shutdown: cancels timers, stops the executor and drops the VM. */
  shutdown(): void {
    this.timers.cancelAll();
    this.executor.close();
    lua.lua_settop(this.vm.L, 0);
    this.vm.close();
  }
}
