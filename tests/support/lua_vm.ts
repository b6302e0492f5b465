/** A sandboxed Lua VM for tests, and Lua's results as values (a failure fails the test). */
import assert from "node:assert/strict";
import { openSandbox } from "../../src/lua/sandbox.ts";
import { type LuaValue, LuaVm } from "../../src/lua/vm.ts";

/** A VM with the sandbox's libraries, its entry begun, under an instruction budget. */
export function sandboxedVm(budget: number): LuaVm {
  const vm = new LuaVm({ instructionBudget: budget });
  openSandbox(vm);
  vm.beginEntry();
  return vm;
}

/** Runs Lua text and returns its results; a Lua failure fails the test. */
export function luaValues(vm: LuaVm, code: string): LuaValue[] {
  const result = vm.evaluate(code);
  if (!result.ok) assert.fail(`Lua failed: ${result.failure.description}`);
  return result.value;
}
