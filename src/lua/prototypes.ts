/**
 * The Lua app model (SPEC 10.1 and 9): `session:prototype`, `session:create`,
 * `session:removePrototype`, hot-reload mutation of live instances, and the built-in
 * `lua.ViewList` / `lua.ViewListItem` wrapper.
 *
 * The logic is Lua, run once per session; fengari has no weak tables, so instances are tracked
 * weakly on the JavaScript side (`WeakRef` to the VM's per-object handle, which lives exactly as
 * long as the Lua table).
 *
 * @module
 */
import { lua, toLua } from "./fengari.ts";
import { guard } from "./guard.ts";
import type { LuaObject, LuaValue, LuaVm } from "./vm.ts";

/** What the app model needs from its session. */
export interface PrototypeHost {
  readonly vm: LuaVm;
  /** The `session` table the functions are added to. */
  readonly sessionTable: LuaObject;
  /** Finds a presenter type, prototype or wrapper by name, for `itemWrapper`. */
  findType(name: string): LuaValue;
  /** Reports an error of a `mutate()` call; the other instances still mutate. */
  mutationFailed(message: string): void;
}

/** The installed app model. */
export interface AppModel {
  /** The `name → prototype` registry table. */
  registry: LuaObject;
  /** The built-in list wrapper factory (`lua.ViewList`). */
  viewList: LuaObject;
  /** Runs `mutate()` on live instances of the prototypes changed since the last call. */
  runMutations(): void;
  /** Tracks an instance made outside `session:create` (a restored one) for mutation. */
  track(proto: LuaObject, instance: LuaObject): void;
  /** The live instances of a prototype. */
  instancesOf(proto: LuaObject): LuaObject[];
}

// deno-fmt-ignore
const SOURCE = `
local session, track, instancesOf, findType, mutationFailed = ...
local registry, snapshots, queued = {}, {}, {}
local IGNORED = {type = true, __index = true, new = true}
EMPTY = EMPTY or {}

local function shallowCopy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function same(a, b)
  -- A fresh table literal in init is not a change: compare tables by kind only.
  if type(a) == "table" and type(b) == "table" then return true end
  return a == b
end

function session.create(self, proto, instance)
  if self ~= session then proto, instance = self, proto end
  instance = instance or {}
  setmetatable(instance, proto)
  track(proto, instance)
  return instance
end

function session.prototype(self, name, init, base)
  if self ~= session then name, init, base = self, name, init end
  assert(type(name) == "string", "prototype name must be a string")
  local proto = registry[name]
  if proto == nil then
    proto = init or {}
    snapshots[name] = shallowCopy(proto)
    for k, v in pairs(proto) do
      if v == EMPTY then proto[k] = nil end
    end
    proto.type = name
    proto.__index = proto
    base = base or (name ~= "Object" and registry.Object or nil)
    if base then setmetatable(proto, base) end
    if proto.new == nil then
      proto.new = function(p, instance) return session:create(p, instance) end
    end
    registry[name] = proto
    return proto
  end
  if init == nil or init == proto then return proto end
  local old = snapshots[name] or {}
  local removed, changed = {}, false
  for k, v in pairs(init) do
    if not IGNORED[k] and not same(old[k], v) then changed = true end
  end
  for k in pairs(old) do
    if not IGNORED[k] and init[k] == nil then
      changed = true
      removed[#removed + 1] = k
    end
  end
  if not changed then return proto end
  for k, v in pairs(init) do
    if not IGNORED[k] then
      if v == EMPTY then proto[k] = nil else proto[k] = v end
    end
  end
  for _, k in ipairs(removed) do proto[k] = nil end
  snapshots[name] = shallowCopy(init)
  queued[#queued + 1] = {proto = proto, removed = removed}
  return proto
end

function session.removePrototype(self, name, children)
  if self ~= session then name, children = self, name end
  registry[name] = nil
  snapshots[name] = nil
  if children then
    local prefix = name .. "."
    for key in pairs(registry) do
      if key:sub(1, #prefix) == prefix then
        registry[key] = nil
        snapshots[key] = nil
      end
    end
  end
end

local function runMutations()
  local work = queued
  queued = {}
  for _, entry in ipairs(work) do
    for _, instance in ipairs(instancesOf(entry.proto)) do
      local mutate = instance.mutate
      if type(mutate) == "function" then
        local ok, err = pcall(mutate, instance)
        if not ok then mutationFailed(tostring(err)) end
      end
      for _, k in ipairs(entry.removed) do rawset(instance, k, nil) end
    end
  end
end

-- lua.ViewList: one lua.ViewListItem per element, reused by position.
local ViewListItem = session:prototype("lua.ViewListItem", {
  item = EMPTY, baseItem = EMPTY, index = 0, list = EMPTY,
})
local ViewList = session:prototype("lua.ViewList", {items = EMPTY})

function ViewList:new(variable)
  local list = variable:getWrapper()
  if type(list) ~= "table" or getmetatable(list) ~= ViewList then
    list = session:create(ViewList, {items = {}})
    variable:setProperty("fallbackNamespace", "list-item")
  end
  list:sync(variable:getValue(), variable:getProperty("itemWrapper"))
  return list
end

function ViewList:sync(array, itemWrapper)
  local items = self.items
  local count = type(array) == "table" and #array or 0
  for i = 1, count do
    local element = array[i]
    local entry = items[i]
    if entry == nil then
      entry = session:create(ViewListItem, {index = i - 1, list = self})
      items[i] = entry
    end
    if entry._made ~= true or entry.baseItem ~= element or entry._wrapper ~= itemWrapper then
      local made = nil
      local T = itemWrapper and findType(itemWrapper)
      if T then
        made = T:new({item = entry.item, baseItem = element, index = i - 1, list = self})
      end
      entry.baseItem = element
      if made == nil then entry.item = element else entry.item = made end
      entry._wrapper = itemWrapper
      entry._made = true
    end
    rawset(self, i, entry)
  end
  for i = #items, count + 1, -1 do
    items[i] = nil
    rawset(self, i, nil)
  end
end

lua = lua or {}
lua.ViewList = ViewList
lua.ViewListItem = ViewListItem

return registry, ViewList, runMutations
`;

/**
 * Installs the app model into a session's VM.
 *
 * @example
 * ```ts
 * import { installAppModel } from "./prototypes.ts";
 * import { LuaVm } from "./vm.ts";
 * import { openSandbox } from "./sandbox.ts";
 * const vm = new LuaVm();
 * openSandbox(vm);
 * vm.evaluate("session = {}");
 * const sessionTable = vm.evaluate("return session");
 * if (sessionTable.ok) {
 *   const model = installAppModel({
 *     vm,
 *     sessionTable: sessionTable.value[0] as import("./vm.ts").LuaObject,
 *     findType: () => null,
 *     mutationFailed: (message) => console.warn(message),
 *   });
 *   vm.evaluate('Contact = session:prototype("Contact", {name = ""})');
 *   model.runMutations();
 * }
 * ```
 */
export function installAppModel(host: PrototypeHost): AppModel {
  const vm = host.vm;
  const L = vm.L;
  const instances = new Map<LuaObject, Set<WeakRef<LuaObject>>>();
  const track = (proto: LuaObject, instance: LuaObject) => {
    const set = instances.get(proto) ?? new Set();
    set.add(new WeakRef(instance));
    instances.set(proto, set);
  };
  const instancesOf = (proto: LuaObject): LuaObject[] => {
    const set = instances.get(proto);
    const live: LuaObject[] = [];
    for (const ref of set ?? []) {
      const instance = ref.deref();
      if (instance) live.push(instance);
      else set?.delete(ref);
    }
    return live;
  };
  const failure = vm.loadText(SOURCE, "=app-model");
  if (failure) throw new Error(`App model failed to compile: ${failure.description}`);
  host.sessionTable.push(L);
  lua.lua_pushcfunction(
    L,
    guard((L) => {
      const proto = vm.read(1, L);
      const instance = vm.read(2, L);
      if (proto === null || typeof proto !== "object") return 0;
      if (instance === null || typeof instance !== "object") return 0;
      track(proto, instance);
      return 0;
    }),
  );
  lua.lua_pushcfunction(
    L,
    guard((L) => {
      const proto = vm.read(1, L);
      lua.lua_newtable(L);
      if (proto === null || typeof proto !== "object") return 1;
      let n = 0;
      for (const live of instancesOf(proto)) {
        live.push(L);
        lua.lua_rawseti(L, -2, ++n);
      }
      return 1;
    }),
  );
  lua.lua_pushcfunction(
    L,
    guard((L) => {
      vm.push(host.findType(vm.read(1, L) as string), L);
      return 1;
    }),
  );
  lua.lua_pushcfunction(
    L,
    guard((L) => {
      host.mutationFailed(String(vm.read(1, L)));
      return 0;
    }),
  );
  vm.beginEntry();
  const error = vm.pcall(5, 3);
  if (error) throw new Error(`App model failed to start: ${error.description}`);
  const registry = vm.objectAt(-3);
  const viewList = vm.objectAt(-2);
  const runMutations = vm.objectAt(-1);
  lua.lua_pop(L, 3);
  return {
    registry,
    viewList,
    runMutations() {
      const result = vm.call(runMutations, [], 0);
      if (!result.ok) host.mutationFailed(result.failure.description);
    },
    track,
    instancesOf,
  };
}

/** Key of the `lua` property (SPEC 10.5). */
export const LUA_PROPERTY = "lua";
/** Lua name of the built-in list wrapper. */
export const VIEW_LIST = "lua.ViewList";
/** Encoded `items` key, for reading a list wrapper's items. */
export const ITEMS_KEY = toLua("items");
