import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Files that hold leaf nodes open: a gated node runs until its gate file exists, so a test decides when a
 * workflow finishes without sleeping.
 */
export class WorkflowGates {
  private constructor(readonly directory: string) {}

  static async create(): Promise<WorkflowGates> {
    return new WorkflowGates(await mkdtemp(join(tmpdir(), 'argosync-gates-')));
  }

  /** A container template that waits for the gate `<namespace>.<workflow>` (or `gate`). */
  template(name = 'main', gate = '{{workflow.namespace}}.{{workflow.name}}'): Record<string, unknown> {
    return {
      name,
      container: {
        image: 'busybox',
        // A node orphaned by a killed controller ends once the gates are removed.
        command: ['sh', '-c', 'while [ ! -e "$GATES/$GATE" ]; do [ -d "$GATES" ] || exit 1; sleep 0.02; done; echo "passed $GATE"'],
        env: [
          { name: 'GATES', value: this.directory },
          { name: 'GATE', value: gate },
        ],
      },
    };
  }

  /** Lets the workflow's gated nodes finish. */
  open(namespace: string, workflowName: string): Promise<void> {
    return writeFile(join(this.directory, `${namespace}.${workflowName}`), '');
  }

  /** The gated node processes running now, by gate and pid, in gate order (from /proc, on Linux). */
  async runningNodes(): Promise<{ gate: string; pid: number }[]> {
    const nodes: { gate: string; pid: number }[] = [];
    for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
      try {
        if ((await readFile(`/proc/${pid}/comm`, 'utf8')).trim() !== 'sh') continue;
        const env = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
        if (!env.includes(`GATES=${this.directory}`)) continue;
        nodes.push({ gate: env.find((entry) => entry.startsWith('GATE='))!.slice('GATE='.length), pid: Number(pid) });
      } catch {
        // exited meanwhile, or not ours to read
      }
    }
    return nodes.sort((a, b) => a.gate.localeCompare(b.gate));
  }

  remove(): Promise<void> {
    return rm(this.directory, { recursive: true, force: true });
  }
}
