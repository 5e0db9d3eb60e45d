// The SDK the API tests exercise: src/index.js, or the installed npm package
// when EDGEWISE_SDK names a module that re-exports it (packtest/ sets it, to
// run the same tests against the packed tarball).

import { pathToFileURL } from 'node:url';

const entry = process.env.EDGEWISE_SDK ? pathToFileURL(process.env.EDGEWISE_SDK).href : '../src/index.js';
const sdk = await import(entry);

export const { Edgewise, ABI_VERSION } = sdk;
