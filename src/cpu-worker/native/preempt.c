/*
 * Preemption at a safe point. Debian's Unicorn 2.0.1 re-executes an instruction when
 * uc_emu_stop() comes from another thread (RIP is left at the start of the translation block
 * while part of the block already ran: measured about one duplicated instruction per stop).
 * So the ticker only raises a request word, and this UC_HOOK_BLOCK callback, called at the
 * start of every translation block before any of it runs, stops the engine there. It is C
 * because a JavaScript callback per block would cost more than the guest code.
 */
#include <stdint.h>

int uc_emu_stop(void *uc);

/* user_data: the vCPU's request word in the control SharedArrayBuffer. */
void starling_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    volatile int32_t *request = (volatile int32_t *)user_data;
    (void)address;
    (void)size;
    if (*request) {
        *request = 0;
        uc_emu_stop(uc);
    }
}

/* koffi hands out JavaScript functions, not addresses: this gives uc_hook_add the C one. */
uint64_t starling_block_hook_address(void)
{
    return (uint64_t)(uintptr_t)&starling_block_hook;
}
