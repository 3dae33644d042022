// Where the bench finds the checkout's pieces.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ROOTFS = join(ROOT, 'rootfs', 'build');
export const CLI = join(ROOT, 'dist', 'src', 'main', 'cli.js');
export const GUEST_SRC = join(ROOT, 'bench', 'guest');
export const RESULTS = join(ROOT, 'bench', 'results');
export const PERFORMANCE_MD = join(ROOT, 'docs', 'PERFORMANCE.md');
