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
import { installMemoryBudget, trackCoroutines } from "../lua/memory_budget.ts";
import { openSandbox } from "../lua/sandbox.ts";
import { setSessionUrl, URL_PROPERTY } from "../lua/session_url.ts";
import { restoreSession, type SavedSession, saveSession } from "../lua/session_snapshot.ts";
import { createTimers, type Timers } from "../lua/timers.ts";
import { type LuaObject, type LuaValue, LuaVm } from "../lua/vm.ts";
import { lua, toLua } from "../lua/fengari.ts";
import { WrapperRegistry } from "../lua/wrappers.ts";
import type { Logger } from "../log.ts";
import { emptyOutgoing, isEmpty, merge, type Outgoing } from "../protocol/outgoing.ts";
import type { ParsedFrame } from "../protocol/messages.ts";
import { readSiteLua, type Site } from "../site/site.ts";
import { viewdefType } from "../viewdefs/store.ts";
import type { Variable } from "../variables/variable.ts";
import { Backend } from "./backend.ts";
import { createEntryRunner, ENTRY_WALL_CLOCK_MS, type EntryRunner } from "./entry_runner.ts";
import { createExecutor, type Executor } from "./executor.ts";
import { addClear, addDetails, type DevFailure, errorDetails } from "./dev_errors.ts";
import { loadLuaProperty } from "./lua_property.ts";
import { templateOnlyPolicy } from "./path_policy.ts";
import { createSessionApi, type SessionApi } from "./session_api.ts";

/** Options of {@link LuaSession.create}. */
export interface LuaSessionOptions {
  vendedId: string;
  site: Site;
  log: Logger;
  instructionBudget: number;
  /** Bytes the session's Lua may hold (default 64 MiB); see `entry_runner.ts`. */
  maxSessionMemory?: number;
  maxVariables: number;
  inlineLua: boolean;
  /** Clients may bind any path; by default only the paths templates bind (`path_policy.ts`). */
  openPaths?: boolean;
  /** A snapshot to restore after `main.lua` ran (with `session.restoring` set). */
  restoreFrom?: Uint8Array;
  /** Development (`--hotload`): errors carry the overlay's details (see `dev_errors.ts`). */
  dev?: boolean;
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
  readonly #runner: EntryRunner;
  /** Why the session was ended (its memory budget), once it was. */
  #ended: Failure | null = null;
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
  readonly #dev: boolean;
  /** The client was sent an error with overlay details that no success has cleared yet. */
  #devShown = false;
  /** `main.lua` failed at start: the next hot reload runs it again. */
  #startFailed = false;
  /** Types already warned about for having no viewdef. */
  readonly #warnedTypes = new Set<string>();

  private constructor(options: LuaSessionOptions) {
    this.vendedId = options.vendedId;
    this.log = options.log;
    this.#site = options.site;
    this.#inlineLua = options.inlineLua;
    this.#dev = options.dev ?? false;
    const vm = this.#vm = new LuaVm({
      instructionBudget: options.instructionBudget,
      wallClockMs: ENTRY_WALL_CLOCK_MS,
    });
    // Before the sandbox, so that its tables are charged too.
    const meter = installMemoryBudget(vm, { maxBytes: options.maxSessionMemory });
    openSandbox(vm, { print: (line) => this.log.info(`lua: ${line}`) });
    trackCoroutines(vm);
    this.#runner = createEntryRunner({ vm, meter });
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
      policy: options.openPaths ? undefined : templateOnlyPolicy(options.site.viewdefs),
    }, { maxVariables: options.maxVariables });
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
      unloadModule: (name) => void this.#program.unloadModule(name),
      unloadDirectory: (dir) => void this.#program.unloadDirectory(dir),
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
      readLua: (file) => readSiteLua(this.#site, file),
      readRootLua: (path) => readSiteLua(this.#site, path, true),
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
    if (failure) session.#startFailure(failure);
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

  #startFailure(failure: Failure): void {
    this.log.error(`main.lua failed: ${failure.description}`);
    this.#startFailed = true;
    const error = newFailure(failure.code, failure.description);
    if (this.#dev) {
      const details = errorDetails(failure.description, "Start-up", (f) => this.#site.lua.get(f));
      (error as DevFailure).details = details;
    }
    this.#startupErrors.errors.push(error);
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
    if (this.#ended) {
      return Promise.reject(new FailureError(this.#ended.code, this.#ended.description));
    }
    return this.#executor.run(async () => {
      this.#admit();
      const steps = frame.items.map((item) => () =>
        this.#balanced(() => {
          if ("error" in item) this.#backend.reportError(item.error);
          else this.#backend.handle(item);
        })
      );
      const out = await this.#runner.run(steps, () => this.#balanced(() => this.afterBatch()));
      this.#dirty = true;
      this.#devReport(out, true);
      this.#sink(out, frame.userEvent);
      this.#review(out);
      return out;
    });
  }

  /**
   * ExecuteInSession: runs a function as one entry (time-sliced), then AfterBatch; changes go
   * to the sink.
   */
  runTask(task: () => void): Promise<void> {
    return this.#runTask(task, false);
  }

  /** A task; `clears`: its success clears the dev overlay (a reload, not a timer). */
  #runTask(task: () => void, clears: boolean): Promise<void> {
    return this.#executor.run(async () => {
      this.#admit();
      const out = await this.#runner.run(
        [() => this.#balanced(task)],
        () => this.#balanced(() => this.afterBatch()),
      );
      this.#dirty = true;
      this.#devReport(out, clears);
      if (!isEmpty(out)) this.#sink(out, false);
      this.#review(out);
    });
  }

  /** Dev: details on Lua errors; after a success that follows them, the overlay's clear. */
  #devReport(out: Outgoing, clears: boolean): void {
    if (!this.#dev) return;
    if (addDetails(out, "Lua error", (file) => this.#site.lua.get(file))) {
      this.#devShown = true;
    } else if (clears && this.#devShown && out.errors.length === 0) {
      // Only a batch without any error is a success that clears the overlay.
      this.#devShown = false;
      addClear(out);
    }
  }

  /** Before an entry: a session still over its memory budget is ended (and the entry refused). */
  #admit(): void {
    const failure = this.#ended ?? this.#runner.admit();
    if (!failure) return;
    this.#end(failure);
    throw new FailureError(failure.code, failure.description);
  }

  /** After an entry: too many memory stops end the session. */
  #review(out: Outgoing): void {
    const failure = this.#runner.review(out);
    if (failure) this.#end(failure);
  }

  /** Ends the session for good: one log line, one error to the client, then shutdown. */
  #end(failure: Failure): void {
    if (this.#ended) return;
    this.#ended = failure;
    this.log.error(failure.description);
    const out = emptyOutgoing();
    out.errors.push(failure);
    this.#sink(out, true);
    // After the current task: the executor refuses anything queued later.
    this.#timers.cancelAll();
    this.#executor.close();
    queueMicrotask(() => this.shutdown());
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
      else this.#missingViewdef(type, out);
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
    const restart = this.#startFailed;
    if (!restart && !this.#program.hasLoaded(file)) return Promise.resolve();
    return this.#runTask(() => {
      if (file !== "main.lua" || !restart) {
        const failure = this.#program.reload(file);
        if (failure) return this.#reportFailure(`Reload of lua/${file}`, failure);
      }
      if (!restart) return;
      // main.lua failed at start: once the site is fixed, the session starts for real.
      const failure = this.#program.runFile("main.lua");
      if (failure) return this.#reportFailure("main.lua", failure);
      this.#startFailed = false;
      this.log.info("main.lua ran after the fix");
    }, true).catch(() => {});
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

  /**
   * A new connection continues where a dropped one left off (the variables were kept): sends
   * every watched variable and the viewdefs again, at once.
   */
  connectionResumed(): Promise<void> {
    return this.#executor.run(() => {
      this.#backend.connectionResumed();
      this.#sentTypes.clear();
      const out = this.#balanced(() => this.afterBatch());
      if (!isEmpty(out)) this.#sink(out, true);
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

  /** A type the client was sent has no viewdef: warned once; dev shows it in the overlay. */
  #missingViewdef(type: string, out: Outgoing): void {
    if (this.#warnedTypes.has(type)) return;
    this.#warnedTypes.add(type);
    const message = `No viewdef for type ${type}: add viewdefs/${type}.DEFAULT.html`;
    this.log.warn(message);
    if (!this.#dev) return;
    const error = newFailure("not-found", message) as DevFailure;
    error.details = { kind: "Missing viewdef", message };
    out.errors.push(error);
  }

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
    if (variable.id === 1 && name === LUA_PROPERTY) {
      return loadLuaProperty(value, {
        site: this.#site,
        program: this.#program,
        inlineLua: this.#inlineLua,
      });
    }
    if (variable.id === 1 && name === URL_PROPERTY) {
      setSessionUrl(this.#vm, this.#sessionTable, value);
    }
    for (const fn of variable.propertyWatchers(name)) {
      const result = this.#vm.call(fn, [value], 0);
      if (!result.ok) FailureError.unwrap(result, variable.id);
    }
  }
}
