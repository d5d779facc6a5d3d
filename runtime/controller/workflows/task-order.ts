interface Task {
  readonly name: string;
  readonly dependencies?: readonly string[];
}

/**
 * DAG tasks in dependency order (each after the tasks it depends on), or the first dependency cycle found, as
 * the task names around it (`a -> b -> a`). Dependencies on unknown tasks are skipped: the manifest check names them.
 */
export function orderTasks<T extends Task>(tasks: readonly T[]): { readonly ordered: T[] } | { readonly cycle: string[] } {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const state = new Map<string, 'visiting' | 'done'>();
  const ordered: T[] = [];
  const visit = (task: T, path: readonly string[]): string[] | undefined => {
    const seen = state.get(task.name);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') return [...path.slice(path.indexOf(task.name)), task.name];
    state.set(task.name, 'visiting');
    for (const dependency of task.dependencies ?? []) {
      const before = byName.get(dependency);
      const cycle = before && visit(before, [...path, task.name]);
      if (cycle) return cycle;
    }
    state.set(task.name, 'done');
    ordered.push(task);
    return undefined;
  };
  for (const task of tasks) {
    const cycle = visit(task, []);
    if (cycle) return { cycle };
  }
  return { ordered };
}
