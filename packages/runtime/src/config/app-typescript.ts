/**
 * Lets plain Node (the published `ebbrt` CLI and node processes) import an app's TypeScript
 * config and entry points: tsx's loader, plus one resolve hook that makes an app's `.ts`/`.tsx`
 * files ES modules whatever its package.json says. Without the hook, an app made by `npm init -y`
 * (CommonJS: no "type": "module") has its `ebbrt.config.ts` compiled as CommonJS, which then
 * `require()`s the ESM-only @ebbrt packages and dies with ERR_REQUIRE_CYCLE_MODULE. `.cts` files
 * stay CommonJS; files under node_modules are left to their packages.
 */
import { register } from 'node:module';

/** The hook, as a module of its own (hooks run on the loader thread). */
const FORCE_ESM_HOOK = `
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (result.url.startsWith('file:') && !result.url.includes('/node_modules/') && /\\.tsx?$/.test(new URL(result.url).pathname)) {
    return { ...result, format: 'module' };
  }
  return result;
}
`;

export async function enableAppTypeScript(): Promise<void> {
  const tsx = await import('tsx/esm/api');
  tsx.register();
  registerAppEsmHook();
}

/** The hook alone (a TypeScript loader must already be registered: this one runs first, before it). */
export function registerAppEsmHook(): void {
  register(`data:text/javascript,${encodeURIComponent(FORCE_ESM_HOOK)}`);
}
