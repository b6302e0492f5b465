/**
 * Types of the generated `fengari_esm.js`: fengari's modules as untyped export objects, which
 * `../fengari.ts` and the other fengari internals give their own types.
 *
 * @module
 */
/** An export object of one of fengari's CommonJS modules. */
// deno-lint-ignore no-explicit-any
export type FengariModule = any;

/** The modules the server uses, each the same object fengari's own modules require. */
declare const fengari: {
  core: FengariModule;
  luaconf: FengariModule;
  lua: FengariModule;
  lauxlib: FengariModule;
  lualib: FengariModule;
  lobject: FengariModule;
  ltable: FengariModule;
};
export default fengari;
