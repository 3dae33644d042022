// The C API of Debian's libunicorn2 (2.0.1), bound through koffi. Constants come from
// <unicorn/unicorn.h> and <unicorn/x86.h> of that version.
import koffi from 'koffi';
import { fileURLToPath } from 'node:url';

export const UC_ARCH_X86 = 4;
export const UC_MODE_64 = 8;

export const UC_HOOK_INSN = 2;
export const UC_HOOK_BLOCK = 8;
export const UC_HOOK_MEM_UNMAPPED = 16 | 32 | 64;
export const UC_HOOK_MEM_PROT = 128 | 256 | 512;
export const UC_HOOK_INSN_INVALID = 16384;
export const UC_HOOK_INTR = 1;
export const UC_X86_INS_SYSCALL = 699;
export const UC_X86_INS_CPUID = 113;

/** uc_mem_type values passed to memory hooks. */
export const UcMem = {
  READ_UNMAPPED: 19, WRITE_UNMAPPED: 20, FETCH_UNMAPPED: 21,
  WRITE_PROT: 22, READ_PROT: 23, FETCH_PROT: 24,
} as const;

export const UC_ERR_OK = 0;

/** UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2) */
export const UC_CTL_TB_REMOVE_CACHE_W = 1207959561;

export const UcReg = {
  RAX: 35, RBX: 37, RCX: 38, RDX: 40, RSI: 43, RDI: 39, RBP: 36, RSP: 44, RIP: 41, EFLAGS: 25,
  R8: 106, R9: 107, R10: 108, R11: 109, R12: 110, R13: 111, R14: 112, R15: 113,
  FS_BASE: 250, GS_BASE: 251, CR0: 50, CR4: 54, FPCW: 246, MXCSR: 249,
} as const;

const lib = koffi.load('libunicorn.so.2');

export const SyscallHookProto = koffi.proto('void StarlingSyscallHook(void *uc, void *user)');
export const MemHookProto = koffi.proto(
  'bool StarlingMemHook(void *uc, int type, uint64_t addr, int size, int64_t value, void *user)');
export const IntrHookProto = koffi.proto('void StarlingIntrHook(void *uc, uint32_t intno, void *user)');
export const CpuidHookProto = koffi.proto('int StarlingCpuidHook(void *uc, void *user)');
export const InvalidInsnHookProto = koffi.proto('bool StarlingInvalidInsnHook(void *uc, void *user)');

export const uc = {
  open: lib.func('int uc_open(int arch, int mode, _Out_ void **uc)'),
  close: lib.func('int uc_close(void *uc)'),
  strerror: lib.func('const char *uc_strerror(int err)'),
  memMapPtr: lib.func('int uc_mem_map_ptr(void *uc, uint64_t addr, size_t size, uint32_t perms, uint64_t ptr)'),
  memUnmap: lib.func('int uc_mem_unmap(void *uc, uint64_t addr, size_t size)'),
  memProtect: lib.func('int uc_mem_protect(void *uc, uint64_t addr, size_t size, uint32_t perms)'),
  regRead: lib.func('int uc_reg_read(void *uc, int regid, void *value)'),
  regWrite: lib.func('int uc_reg_write(void *uc, int regid, void *value)'),
  regReadBatch: lib.func('int uc_reg_read_batch(void *uc, void *regs, void *vals, int count)'),
  regWriteBatch: lib.func('int uc_reg_write_batch(void *uc, void *regs, void *vals, int count)'),
  emuStart: lib.func('int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
  emuStop: lib.func('int uc_emu_stop(void *uc)'),
  hookAdd: lib.func('int uc_hook_add(void *uc, _Out_ uint64_t *hh, int type, void *cb, void *user, uint64_t begin, uint64_t end, ...)'),
  ctl2: lib.func('int uc_ctl(void *uc, int control, ...)'),
  contextAlloc: lib.func('int uc_context_alloc(void *uc, _Out_ void **context)'),
  contextSave: lib.func('int uc_context_save(void *uc, void *context)'),
  contextRestore: lib.func('int uc_context_restore(void *uc, void *context)'),
  contextFree: lib.func('int uc_context_free(void *context)'),
  contextSize: lib.func('size_t uc_context_size(void *uc)'),
  /** uc_hook_add for a C callback given by address (see native/preempt.c). */
  hookAddNative: lib.func('int uc_hook_add(void *uc, _Out_ uint64_t *hh, int type, uint64_t cb, uint64_t user, uint64_t begin, uint64_t end)'),
};

const libc = koffi.load('libc.so.6');
/** Copies a saved context between Unicorn's memory and a SharedArrayBuffer (either side may be a typed array). */
export const memcpy = libc.func('void *memcpy(void *dst, const void *src, size_t n)');

const preemptLibrary = koffi.load(fileURLToPath(new URL('../../native/libstarling-preempt.so', import.meta.url)));
/**
 * The C UC_HOOK_BLOCK callback that stops the engine when its request word is set: its address,
 * and its library, held here because koffi unloads a library whose object is garbage-collected
 * while every engine's generated code still calls the callback by address (that crash came
 * after some 60 forked children, once a collection ran).
 */
export const PREEMPT_BLOCK_HOOK = {
  library: preemptLibrary,
  address: Number(preemptLibrary.func('uint64_t starling_block_hook_address(void)')()),
};
