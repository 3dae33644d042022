import { hostSyscall, HostNr } from './libc.js';

/** A host file descriptor shared by several holders and closed when the last one lets go. */
export class SharedHostFd {
  constructor(readonly hostFd: number, private refs: number) {}

  ref(): this {
    this.refs++;
    return this;
  }

  unref(): void {
    if (--this.refs === 0) hostSyscall(HostNr.close, this.hostFd);
  }
}
