/**
 * Templates every site gets: the views of the built-in `lua.ViewList` wrapper and its items.
 * A site's own file with the same key replaces one of these.
 *
 * @module
 */

/** Built-in viewdefs by key. */
export const BUILTIN_VIEWDEFS: ReadonlyMap<string, string> = new Map([
  [
    "lua.ViewList.DEFAULT",
    `<template><div class="ui-viewlist" ui-viewlist="items"></div></template>`,
  ],
  [
    "lua.ViewListItem.list-item",
    `<template><div class="ui-viewlist-item" ui-view="item"></div></template>`,
  ],
]);
