/** Import cycles among the modules of src/, over the imports that exist at run time. */
import { importsOf } from './layering.js';

/** Every cycle of run-time imports (type-only ones vanish at compile time and are left out),
 * each as `a.ts -> b.ts -> a.ts`, starting from its first file in sort order; none twice. */
export function importCycles(sources: ReadonlyMap<string, string>): string[] {
  const graph = new Map<string, string[]>();
  for (const [file, text] of sources) {
    const targets = importsOf(file, text).filter((edge) => !edge.isPackage && !edge.typeOnly && sources.has(edge.to));
    graph.set(file, [...new Set(targets.map((edge) => edge.to))].sort());
  }
  const found = new Set<string>();
  const walk = (path: readonly string[]): void => {
    const here = path.at(-1) as string;
    for (const next of graph.get(here) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.add(canonical(path.slice(at)));
      else walk([...path, next]);
    }
  };
  for (const file of [...graph.keys()].sort()) walk([file]);
  return [...found].sort();
}

/** A cycle written from its smallest file, so each cycle has one spelling. */
function canonical(cycle: readonly string[]): string {
  const first = cycle.indexOf([...cycle].sort()[0] as string);
  const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
  return [...rotated, rotated[0]].join(' -> ');
}
