// `--progress`: a one-line progress display on standard error while a large policy compiles.
// On a terminal the line is redrawn in place; otherwise each stage gets one line.
import type { CompileStage, ProgressListener } from '../compiler/compile.js';
import type { CliIo } from './io.js';

const STAGE_WORDS: Record<CompileStage, string> = {
  parse: 'parsing files',
  resolve: 'resolving names and imports',
  check: 'checking rules',
  lower: 'building the decision table',
};

export function progressPrinter(io: CliIo, now: () => number = Date.now): { listener: ProgressListener; finish(): void } {
  const stream = io.stderr as CliIo['stderr'] & { isTTY?: boolean };
  const tty = stream.isTTY === true;
  const started = now();
  let lastStage: CompileStage | undefined;
  let lastDraw = 0;
  let drawn = false;
  const listener: ProgressListener = (stage, done, total) => {
    const t = now();
    const seconds = ((t - started) / 1000).toFixed(1);
    const unit = stage === 'parse' ? 'files' : stage === 'resolve' ? 'statements' : 'rules';
    const line = `[${seconds}s] ${STAGE_WORDS[stage]}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}`;
    if (tty) {
      if (t - lastDraw < 100 && stage === lastStage && done < total) return;
      stream.write(`\r\x1b[K${bar(done, total)} ${line}`);
      drawn = true;
    } else if (stage !== lastStage) {
      stream.write(`${line}\n`);
    }
    lastStage = stage;
    lastDraw = t;
  };
  return {
    listener,
    finish() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}

function bar(done: number, total: number): string {
  const width = 20;
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
