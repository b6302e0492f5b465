/**
 * The seed card's `LuaSession`: one browser session's isolated Lua VM with its `session` API,
 * program, variables (the backend) and serial executor, wired together here and nowhere else.
 *
 * Transport-agnostic: every answer and every background change (timers, reloads) goes to one
 * output sink that the session manager attaches for the live connection.
 *
 * @module
 */
import { type Failure, FailureError, newFailure, type Result } from "../failure.ts";
import { installApi } from "../lua/api.ts";
import { createLuaWorld } from "../lua/lua_world.ts";
import { getField } from "../lua/navigate.ts";
import { createProgram, type Program } from "../lua/program.ts";
import { type AppModel, installAppModel, LUA_PROPERTY, VIEW_LIST } from "../lua/prototypes.ts";
import { openSandbox } from "../lua/sandbox.ts";
import { restoreSession, type SavedSession, saveSession } from "../lua/session_snapshot.ts";
import { createTimers, type Timers } from "../lua/timers.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../lua/vm.ts";
import { lua, toLua } from "../lua/fengari.ts";
import { WrapperRegistry } from "../lua/wrappers.ts";
import type { Logger } from "../log.ts";
import { emptyOutgoing, isEmpty, merge, type Outgoing } from "../protocol/outgoing.ts";
import type { ParsedFrame } from "../protocol/messages.ts";
import type { Site } from "../site/site.ts";
import { viewdefType } from "../viewdefs/store.ts";
import type { Variable } from "../variables/variable.ts";
import { Backend, type BackendLimits } from "./backend.ts";
import { createExecutor, type Executor } from "./executor.ts";
import { createSessionApi, type SessionApi } from "./session_api.ts";

/** Options of {@link LuaSession.create}. */
export interface LuaSessionOptions {
  vendedId: string;
  site: Site;
  log: Logger;
  instructionBudget: number;
  maxVariables: number;
  inlineLua: boolean;
  /** A snapshot to restore after `main.lua` ran (with `session.restoring` set). */
  restoreFrom?: Uint8Array;
  /** What the session may hold from its client and build for it; the defaults otherwise. */
  limits?: Partial<BackendLimits>;
}

/**
 * Where a session's output goes: each batch's results, `immediate` for the answer to a user
 * event (flush now) and false for background work (coalesce).
 */
export type OutputSink = (out: Outgoing, immediate: boolean) => void;

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
 * session.attach((out) => console.log(out.updates));
 * await session.handleFrame({ userEvent: false, items: [{ type: "watch", data: { varId: 1 } }] });
 * session.shutdown();
 * ```
 */
export class LuaSession {
  /** Vended id: `"1"`, `"2"`, ... */
  readonly vendedId: string;
  /** This session's log (lines carry the vended id). */
  readonly log: Logger;
  readonly #site: Site;
  readonly #inlineLua: boolean;
  readonly #vm: LuaVm;
  readonly #backend: Backend<LuaValue>;
  readonly #executor: Executor;
  readonly #wrappers: WrapperRegistry;
  readonly #api: SessionApi;
  readonly #appModel: AppModel;
  readonly #timers: Timers;
  readonly #program: Program;
  /** Types whose viewdefs the current connection has. */
  readonly #sentTypes = new Set<string>();
  #startupErrors = emptyOutgoing();
  #sink: OutputSink = () => {};
  #sessionTable: LuaObject;
  /** Lua ran since the last snapshot. */
  #dirty = false;
  #lastDropped = "";

  private constructor(options: LuaSessionOptions) {
    this.vendedId = options.vendedId;
    this.log = options.log;
    this.#site = options.site;
    this.#inlineLua = options.inlineLua;
    const vm = this.#vm = new LuaVm({ instructionBudget: options.instructionBudget });
    openSandbox(vm, { print: (line) => this.log.info(`lua: ${line}`) });
    this.#wrappers = new WrapperRegistry(vm);
    const world = createLuaWorld({
      vm,
      wrappers: this.#wrappers,
      findType: (name) => this.findType(name),
      variable: (id) => this.#backend.tree.get(id),
      log: this.log,
    });
    this.#backend = new Backend(world, {
      propertyChanged: (variable, name, value) => this.#propertyChanged(variable, name, value),
    }, { ...options.limits, maxVariables: options.maxVariables });
    this.#executor = createExecutor();
    this.#timers = createTimers({
      vm,
      executeInSession: (task) => this.runTask(task),
      timerFailed: (failure) => this.#reportFailure("Timer callback", failure),
    });
    this.#api = createSessionApi({
      vm,
      vendedId: this.vendedId,
      backend: this.#backend,
      wrappers: this.#wrappers,
      log: this.log,
    });
    const sessionTable = this.#sessionTable = installApi(this.#api, this.#timers.functions);
    this.#appModel = installAppModel({
      vm,
      sessionTable,
      findType: (name) => this.findType(name),
      mutationFailed: (message) =>
        this.#reportFailure("mutate()", { code: "lua-error", description: message }),
    });
    this.#wrappers.registerBuiltin(VIEW_LIST, this.#appModel.viewList);
    this.#program = createProgram({
      vm,
      sessionTable,
      readLua: (file) => this.#site.lua.get(file),
      afterLoad: () => this.#appModel.runMutations(),
    });
  }

  /**
   * CreateLuaSession: builds the VM and runs `main.lua`. An error in `main.lua` is logged and
   * sent as `lua-error` with the first flush; the session stays usable.
   */
  static create(options: LuaSessionOptions): LuaSession {
    const session = new LuaSession(options);
    if (options.restoreFrom) session.#setFlag("restoring", true);
    const failure = session.#program.runFile("main.lua");
    if (failure) {
      session.log.error(`main.lua failed: ${failure.description}`);
      session.#startupErrors.errors.push(newFailure(failure.code, failure.description));
    }
    if (!options.restoreFrom) return session;
    session.#setFlag("restoring", false);
    const restored = session.#restore(options.restoreFrom);
    if (restored) return session;
    // A snapshot that cannot be restored leaves a fresh session and a clear message.
    session.shutdown();
    const fresh = LuaSession.create({ ...options, restoreFrom: undefined });
    fresh.#startupErrors.errors.push(
      newFailure("lua-error", "Your session could not be restored; a new one was started"),
    );
    return fresh;
  }

  /** Restores the app object from a snapshot; false (logged) when it cannot. */
  #restore(bytes: Uint8Array): boolean {
    this.#vm.beginEntry();
    const restored = this.#balanced(() => restoreSession(this.#vm, this.#appModel, bytes));
    if (!restored.ok) {
      this.log.error(`Session restore failed: ${restored.failure.description}`);
      return false;
    }
    const { app, changed, missing, failures } = restored.value;
    const props = new Map(this.#backend.tree.get(1)?.properties ?? []);
    this.#api.createAppVariable(app, props);
    if (changed.length > 0) {
      this.log.info(`Restored under changed prototypes: ${changed.join(", ")}`);
    }
    if (missing.length > 0) this.log.warn(`Restored without prototypes: ${missing.join(", ")}`);
    for (const message of failures) {
      this.#reportFailure("mutate()", { code: "lua-error", description: message });
    }
    this.log.info("Session restored");
    return true;
  }

  #setFlag(name: string, value: boolean): void {
    const L = this.#vm.L;
    this.#sessionTable.push(L);
    this.#vm.push(value);
    lua.lua_setfield(L, -2, toLua(name));
    this.#vm.resetStack();
  }

  /** True when Lua ran since the last {@link snapshot}. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Saves the app object's data (after any queued work); dropped values (functions and the
   * like) are logged when they change.
   */
  snapshot(): Promise<Result<SavedSession>> {
    return this.#executor.run(() => {
      this.#dirty = false;
      this.#vm.beginEntry();
      const saved = this.#balanced(() => saveSession(this.#vm, this.#appModel, this.#api.getApp()));
      if (!saved.ok) {
        this.#dirty = true;
        return saved;
      }
      const dropped = saved.value.dropped.join(", ");
      if (dropped !== this.#lastDropped && dropped !== "") {
        this.log.warn(`Snapshot leaves out what is not data: ${dropped}`);
      }
      this.#lastDropped = dropped;
      return saved;
    });
  }

  /** True once {@link shutdown} ran. */
  get closed(): boolean {
    return this.#executor.closed;
  }

  /** Live timers. */
  get timerCount(): number {
    return this.#timers.count;
  }

  /** Sends this session's output to `sink` (the live connection's batcher). */
  attach(sink: OutputSink): void {
    this.#sink = sink;
  }

  /**
   * HandleFrontendCreate / HandleFrontendUpdate and the rest: one frame as one entry, then
   * AfterBatch; the result goes to the sink (at once for a user event), and the promise
   * resolves with it too.
   */
  handleFrame(frame: ParsedFrame): Promise<Outgoing> {
    return this.#executor.run(() => {
      const out = this.#balanced(() => {
        for (const item of frame.items) {
          if ("error" in item) {
            this.#backend.reportError(item.error);
            continue;
          }
          this.#vm.beginEntry();
          this.#backend.handle(item);
        }
        return this.afterBatch();
      });
      this.#dirty = true;
      this.#sink(out, frame.userEvent);
      return out;
    });
  }

  /** ExecuteInSession: runs a function as one entry, then AfterBatch; changes go to the sink. */
  runTask(task: () => void): Promise<void> {
    return this.#executor.run(() => {
      const out = this.#balanced(() => {
        this.#vm.beginEntry();
        task();
        return this.afterBatch();
      });
      this.#dirty = true;
      if (!isEmpty(out)) this.#sink(out, false);
    });
  }

  /**
   * AfterBatch: change detection plus the viewdefs the connection has not seen yet, and the
   * errors queued since the last one.
   */
  afterBatch(): Outgoing {
    this.#vm.beginEntry();
    const types = new Set<string>();
    const out = this.#backend.afterBatch(types);
    if (!isEmpty(this.#startupErrors)) {
      merge(out, this.#startupErrors);
      this.#startupErrors = emptyOutgoing();
    }
    for (const type of types) {
      if (this.#sentTypes.has(type)) continue;
      this.#sentTypes.add(type);
      const found = this.#site.viewdefs.forType(type);
      if (Object.keys(found).length > 0) out.viewdefs = { ...out.viewdefs, ...found };
    }
    return out;
  }

  /** Runs a site file in this session now (as the `lua` property does), then mutation. */
  loadFile(file: string): Failure | null {
    return this.#program.runFile(file);
  }

  /** Re-runs a site file with `session.reloading` set, now. */
  reload(file: string): Failure | null {
    return this.#program.reload(file);
  }

  /**
   * Hot reload: if this session has run `file`, re-runs it as an entry of its own with
   * `session.reloading` set; a failure is logged and sent as `lua-error`.
   */
  reloadFile(file: string): Promise<void> {
    if (!this.#program.hasLoaded(file)) return Promise.resolve();
    return this.runTask(() => {
      const failure = this.#program.reload(file);
      if (failure) this.#reportFailure(`Reload of lua/${file}`, failure);
    }).catch(() => {});
  }

  /** Re-sends a changed viewdef if this session's connection has its type (hot reload). */
  resendViewdef(key: string): Promise<void> {
    return this.#executor.run(() => {
      if (!this.#sentTypes.has(viewdefType(key))) return;
      const template = this.#site.viewdefs.get(key);
      if (template === undefined) return;
      const out = emptyOutgoing();
      out.viewdefs = { [key]: template };
      this.#sink(out, false);
    }).catch(() => {});
  }

  /**
   * The connection closed: after any frame still running (which expects its variables), drop
   * the connection's variables and what it was sent.
   */
  connectionClosed(): Promise<void> {
    return this.#executor.run(() => {
      this.#backend.connectionClosed();
      this.#sentTypes.clear();
    }).catch(() => {});
  }

  /** Resolves once the work queued so far has run. */
  idle(): Promise<void> {
    return this.#executor.run(() => {}).catch(() => {});
  }

  /** Shutdown: cancels timers, stops the executor and drops the VM. */
  shutdown(): void {
    this.#timers.cancelAll();
    this.#executor.close();
    this.#vm.close();
  }

  // ---- Inspection, for the debug view, tools and tests -------------------------------------

  /** A variable by id. */
  variable(id: number): Variable<LuaValue> | undefined {
    return this.#backend.tree.get(id);
  }

  /** Every variable, parents before children. */
  variables(): IterableIterator<Variable<LuaValue>> {
    return this.#backend.tree.walk();
  }

  /** Number of variables. */
  get variableCount(): number {
    return this.#backend.tree.size;
  }

  /** Runs Lua text now as an entry of its own, then mutation; returns its results. */
  evaluate(code: string): Result<LuaValue[]> {
    this.#vm.beginEntry();
    const result = this.#vm.evaluate(code);
    this.#appModel.runMutations();
    return result;
  }

  /** Calls a Lua function now, as an entry of its own; returns its first `nresults` results. */
  call(fn: LuaValue, args: readonly LuaValue[], nresults = 1): Result<LuaValue[]> {
    this.#vm.beginEntry();
    return this.#vm.call(fn, args, nresults);
  }

  /**
   * The session's VM, for benchmarks and diagnostics that measure against it; the server's own
   * code goes through the methods above.
   */
  get vmForDiagnostics(): LuaVm {
    return this.#vm;
  }

  /** A presenter type, prototype or wrapper factory by name (for `create=` and `itemWrapper`). */
  findType(name: string): LuaValue {
    const presenter = this.#api.presenter(name);
    if (presenter !== undefined) return presenter;
    const proto = getField(this.#vm, this.#appModel.registry, toLua(name));
    if (proto.ok && proto.value !== null) return proto.value;
    return this.#wrappers.find(name) ?? null;
  }

  // ---- Internals ----------------------------------------------------------------------------

  /** Logs a failure and sends it to the client with the next flush. */
  #reportFailure(what: string, failure: Failure, varId?: number): void {
    this.log.warn(`${what} failed: ${failure.description}`);
    this.#backend.reportError(newFailure(failure.code, failure.description, varId));
  }

  /**
   * Runs a task and then empties the Lua stack: nothing lives on it between tasks, so an
   * unexpected JavaScript exception part way through cannot leave the session unusable.
   */
  #balanced<T>(task: () => T): T {
    try {
      return task();
    } finally {
      if (!this.#vm.closed) this.#vm.resetStack();
    }
  }

  /** NotifyPropertyChange: the `lua` property of variable 1, or the Lua watchers of a property. */
  #propertyChanged(variable: Variable<LuaValue>, name: string, value: string): void {
    if (variable.id === 1 && name === LUA_PROPERTY) return this.#loadLuaProperty(value);
    for (const fn of variable.propertyWatchers(name)) {
      const result = this.#vm.call(fn, [value], 0);
      if (!result.ok) FailureError.unwrap(result, variable.id);
    }
  }

  /** SPEC 10.5: a `.lua` value loads that site file; anything else is inline code. */
  #loadLuaProperty(value: string): void {
    let failure: Failure | null;
    if (value.endsWith(".lua")) {
      const file = value.replace(/^\/+/, "");
      if (
        file.split("/").some((part) => part === ".." || part === "") || !this.#site.lua.has(file)
      ) {
        throw new FailureError("not-found", `No Lua file '${value}' in the site`, 1);
      }
      failure = this.#program.runFile(file);
    } else {
      if (!this.#inlineLua) {
        throw new FailureError("forbidden", "Inline Lua is not allowed on this server", 1);
      }
      failure = this.#program.runCode(value, "=inline");
    }
    if (failure) throw new FailureError(failure.code, failure.description, 1);
  }
}
