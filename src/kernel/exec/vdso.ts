// The vDSO every process gets (kernel/vdso/vdso.c, built into dist/native/vdso.so) and the
// [vvar] page below it, which holds the clock's parameters (shared-mem/vvar.ts). The loader
// maps both at exec, as Linux maps its own, and names the vDSO in AT_SYSINFO_EHDR.
import { openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MappedFile } from '../mm/address-space.js';
import { parseElf, type ElfImage } from './elf.js';

const VDSO_PATH = fileURLToPath(new URL('../../../native/vdso.so', import.meta.url));

export class VdsoImage {
  readonly elf: ElfImage;
  /** Both held for the machine's lifetime: every process maps them. */
  readonly file: MappedFile;
  /** Read-only: no guest can make its view writable and change everyone's clock (mprotect gives EACCES). */
  readonly vvar: MappedFile;

  /** vvarFd: the memfd holding the [vvar] page (main/guest-clock.ts). */
  constructor(vvarFd: number) {
    const fd = openSync(VDSO_PATH, 'r');
    const bytes = new Uint8Array(readFileSync(fd));
    this.elf = parseElf(bytes, bytes.length);
    this.file = new MappedFile(fd, '[vdso]').ref();
    this.vvar = new MappedFile(openSync(`/proc/self/fd/${vvarFd}`, 'r'), '[vvar]').ref();
  }
}
