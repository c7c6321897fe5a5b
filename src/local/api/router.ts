/** A tiny method + path router with `:param` segments (pure). */

export interface Route<H> {
  method: string;
  parts: string[];
  name: string;
  handler: H;
}

export class Router<H> {
  private routes: Route<H>[] = [];

  add(method: string, pattern: string, handler: H): this {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), name: pattern, handler });
    return this;
  }

  /** The matching route and its params; `methodMismatch` when only the method differs. */
  match(
    method: string,
    pathname: string,
  ): { route: Route<H>; params: Record<string, string> } | { methodMismatch: boolean } {
    const segs = pathname.split('/').filter(Boolean);
    let methodMismatch = false;
    for (const route of this.routes) {
      if (route.parts.length !== segs.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const p = route.parts[i]!;
        if (p.startsWith(':')) {
          try {
            params[p.slice(1)] = decodeURIComponent(segs[i]!);
          } catch {
            ok = false;
            break;
          }
        } else if (p !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { route, params };
    }
    return { methodMismatch };
  }
}
