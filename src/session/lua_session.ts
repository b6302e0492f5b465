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
import { setSessionFlag } from "../lua/api.ts";
import type { SavedSession } from "../lua/session_snapshot.ts";
import type { LuaValue, LuaVm } from "../lua/vm.ts";
import type { Logger } from "../log.ts";
import { emptyOutgoing, isEmpty, merge, type Outgoing } from "../protocol/outgoing.ts";
import type { ParsedFrame } from "../protocol/messages.ts";
import type { Site } from "../site/site.ts";
import type { Variable } from "../variables/variable.ts";
import { createDevReporter, type DevReporter } from "./dev_errors.ts";
import { propertyChanged } from "./lua_property.ts";
import { buildParts, type PartsOptions, type SessionParts } from "./session_parts.ts";
import { restoreParts, saveParts } from "./session_snapshots.ts";
import { createViewdefDelivery, type ViewdefDelivery } from "./viewdef_delivery.ts";

/** Options of {@link LuaSession.create}. */
export interface LuaSessionOptions extends PartsOptions {
  inlineLua: boolean;
  /** A snapshot to restore after `main.lua` ran (with `session.restoring` set). */
  restoreFrom?: Uint8Array;
  /** Development (`--dev`): errors carry the overlay's details (see `dev_errors.ts`). */
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
  readonly #parts: SessionParts;
  readonly #vm: LuaVm;
  readonly #dev: DevReporter;
  /** Why the session was ended (its memory budget), once it was. */
  #ended: Failure | null = null;
  readonly #viewdefs: ViewdefDelivery;
  #startupErrors = emptyOutgoing();
  #sink: OutputSink = () => {};
  /** Lua ran since the last snapshot. */
  #dirty = false;
  /** What the last snapshot left out, so that the warning is logged when it changes. */
  readonly #dropped = { paths: "", log: (line: string) => this.log.warn(line) };
  /** `main.lua` failed at start: the next hot reload runs it again. */
  #startFailed = false;

  private constructor(options: LuaSessionOptions) {
    this.vendedId = options.vendedId;
    this.log = options.log;
    this.#site = options.site;
    this.#inlineLua = options.inlineLua;
    this.#dev = createDevReporter({ dev: options.dev ?? false, site: options.site, log: this.log });
    this.#viewdefs = createViewdefDelivery(
      options.site.viewdefs,
      (type, out) => this.#dev.missingViewdef(type, out),
    );
    this.#parts = buildParts(options, {
      propertyChanged: (variable, name, value) =>
        propertyChanged(variable, name, value, {
          site: this.#site,
          parts: this.#parts,
          inlineLua: this.#inlineLua,
        }),
      runTask: (task) => this.runTask(task),
      reportFailure: (what, failure) => this.#reportFailure(what, failure),
      likelyTypo: (type, path, field) => this.#dev.likelyTypo(type, path, field),
    });
    this.#vm = this.#parts.vm;
  }

  /**
   * CreateLuaSession: builds the VM and runs `main.lua`. An error in `main.lua` is logged and
   * sent as `lua-error` with the first flush; the session stays usable.
   */
  static create(options: LuaSessionOptions): LuaSession {
    const session = new LuaSession(options);
    if (options.restoreFrom) {
      setSessionFlag(session.#vm, session.#parts.sessionTable, "restoring", true);
    }
    const failure = session.#parts.program.runFile("main.lua");
    if (failure) session.#startFailure(failure);
    if (!options.restoreFrom) return session;
    setSessionFlag(session.#vm, session.#parts.sessionTable, "restoring", false);
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
    this.#startupErrors.errors.push(this.#dev.startFailure(failure));
  }

  /** Restores the app object from a snapshot; false (logged) when it cannot. */
  #restore(bytes: Uint8Array): boolean {
    this.#vm.beginEntry();
    return this.#balanced(() =>
      restoreParts(
        this.#parts,
        bytes,
        this.log,
        (failure) => this.#reportFailure("mutate()", failure),
      )
    );
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
    return this.#parts.executor.run(() => {
      this.#dirty = false;
      this.#vm.beginEntry();
      const saved = this.#balanced(() => saveParts(this.#parts, this.#dropped));
      if (!saved.ok) this.#dirty = true;
      return saved;
    });
  }

  /** True once {@link shutdown} ran. */
  get closed(): boolean {
    return this.#parts.executor.closed;
  }

  /** The session's memory account: what its Lua holds and the client values it keeps. */
  get memoryBytes(): number {
    const { meter, backend } = this.#parts;
    return meter.liveBytes + meter.charged + backend.clientValueBytes;
  }

  /** Live timers. */
  get timerCount(): number {
    return this.#parts.timers.count;
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
    return this.#parts.executor.run(async () => {
      this.#admit();
      const steps = frame.items.map((item) => () =>
        this.#balanced(() => {
          if ("error" in item) this.#parts.backend.reportError(item.error);
          else this.#parts.backend.handle(item);
        })
      );
      const out = await this.#parts.runner.run(
        steps,
        () => this.#balanced(() => this.afterBatch()),
      );
      this.#dirty = true;
      this.#dev.report(out, true);
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
    return this.#parts.executor.run(async () => {
      this.#admit();
      const out = await this.#parts.runner.run(
        [() => this.#balanced(task)],
        () => this.#balanced(() => this.afterBatch()),
      );
      this.#dirty = true;
      this.#dev.report(out, clears);
      if (!isEmpty(out)) this.#sink(out, false);
      this.#review(out);
    });
  }

  /** Before an entry: a session still over its memory budget is ended (and the entry refused). */
  #admit(): void {
    const failure = this.#ended ?? this.#parts.runner.admit();
    if (!failure) return;
    this.#end(failure);
    throw new FailureError(failure.code, failure.description);
  }

  /** After an entry: too many memory stops end the session. */
  #review(out: Outgoing): void {
    const failure = this.#parts.runner.review(out);
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
    this.#parts.timers.cancelAll();
    this.#parts.executor.close();
    queueMicrotask(() => this.shutdown());
  }

  /**
   * AfterBatch: change detection plus the viewdefs the connection has not seen yet, and the
   * errors queued since the last one.
   */
  afterBatch(): Outgoing {
    this.#vm.beginEntry();
    const types = new Set<string>();
    const out = this.#parts.backend.afterBatch(types);
    if (!isEmpty(this.#startupErrors)) {
      merge(out, this.#startupErrors);
      this.#startupErrors = emptyOutgoing();
    }
    this.#viewdefs.add(types, out);
    return out;
  }

  /** Runs a site file in this session now (as the `lua` property does), then mutation. */
  loadFile(file: string): Failure | null {
    return this.#parts.program.runFile(file);
  }

  /** Re-runs a site file with `session.reloading` set, now. */
  reload(file: string): Failure | null {
    return this.#parts.program.reload(file);
  }

  /**
   * Hot reload: if this session has run `file`, re-runs it as an entry of its own with
   * `session.reloading` set; a failure is logged and sent as `lua-error`.
   */
  reloadFile(file: string): Promise<void> {
    const restart = this.#startFailed;
    if (!restart && !this.#parts.program.hasLoaded(file)) return Promise.resolve();
    return this.#runTask(() => {
      if (file !== "main.lua" || !restart) {
        const failure = this.#parts.program.reload(file);
        if (failure) return this.#reportFailure(`Reload of lua/${file}`, failure);
      }
      if (!restart) return;
      // main.lua failed at start: once the site is fixed, the session starts for real.
      const failure = this.#parts.program.runFile("main.lua");
      if (failure) return this.#reportFailure("main.lua", failure);
      this.#startFailed = false;
      this.log.info("main.lua ran after the fix");
    }, true).catch(() => {});
  }

  /** Re-sends a changed viewdef if this session's connection has its type (hot reload). */
  resendViewdef(key: string): Promise<void> {
    return this.#parts.executor.run(() => {
      const template = this.#viewdefs.resend(key);
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
    return this.#parts.executor.run(() => {
      this.#parts.backend.connectionClosed();
      this.#viewdefs.reset();
    }).catch(() => {});
  }

  /**
   * A new connection continues where a dropped one left off (the variables were kept): sends
   * every watched variable and the viewdefs again, at once.
   */
  connectionResumed(): Promise<void> {
    return this.#parts.executor.run(() => {
      this.#parts.backend.connectionResumed();
      this.#viewdefs.reset();
      const out = this.#balanced(() => this.afterBatch());
      if (!isEmpty(out)) this.#sink(out, true);
    }).catch(() => {});
  }

  /**
   * A page that kept what it rendered but whose variables this session does not have (ui-engine's
   * frontend reconnecting after a restart, or after its kept variables went) and that does not
   * start over: variable 1 is sent with an empty `type`, then in full, in two frames, so the page
   * clears its view and renders it again, re-creating its bindings. Variables of a previous
   * connection go first.
   */
  reannounce(): Promise<void> {
    return this.#parts.executor.run(() => {
      const backend = this.#parts.backend;
      backend.connectionClosed();
      this.#viewdefs.reset();
      const app = backend.tree.get(1);
      if (!app) return;
      app.watch();
      const blank = emptyOutgoing();
      blank.updates[1].push({ varId: 1, properties: { type: "" } });
      this.#sink(blank, true);
      const out = this.#balanced(() => this.afterBatch());
      if (!isEmpty(out)) this.#sink(out, true);
      this.log.info("Page asked to render again (its variables were not known here)");
    }).catch(() => {});
  }

  /** Resolves once the work queued so far has run. */
  idle(): Promise<void> {
    return this.#parts.executor.run(() => {}).catch(() => {});
  }

  /** Shutdown: cancels timers, stops the executor and drops the VM. */
  shutdown(): void {
    this.#parts.timers.cancelAll();
    this.#parts.executor.close();
    this.#vm.close();
    this.#parts.closeHost();
  }

  // ---- Inspection, for the debug view, tools and tests -------------------------------------

  /** A variable by id. */
  variable(id: number): Variable<LuaValue> | undefined {
    return this.#parts.backend.tree.get(id);
  }

  /** Every variable, parents before children. */
  variables(): IterableIterator<Variable<LuaValue>> {
    return this.#parts.backend.tree.walk();
  }

  /** Number of variables. */
  get variableCount(): number {
    return this.#parts.backend.tree.size;
  }

  /** Runs Lua text now as an entry of its own, then mutation; returns its results. */
  evaluate(code: string): Result<LuaValue[]> {
    this.#vm.beginEntry();
    const result = this.#vm.evaluate(code);
    this.#parts.appModel.runMutations();
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
    return this.#parts.findType(name);
  }

  // ---- Internals ----------------------------------------------------------------------------

  /** Logs a failure and sends it to the client with the next flush. */
  #reportFailure(what: string, failure: Failure, varId?: number): void {
    this.log.warn(`${what} failed: ${failure.description}`);
    this.#parts.backend.reportError(newFailure(failure.code, failure.description, varId));
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
}
