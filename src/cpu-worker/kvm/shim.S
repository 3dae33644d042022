# The KVM backend's ring-0 shim: a few hundred bytes that turn exceptions, interrupts and
# syscalls into exits to the vCPU's worker. Assembled by scripts/build-native.sh into a flat
# binary (dist/native/kvm-shim.bin) that the host copies to the start of the kernel area
# (shared-mem/kvm-area.ts). Every entry point sits at a fixed offset that kvm-area.ts names.
#
# Each exit is `out %al, $EXIT_PORT`: it clobbers no register, and the host tells the reasons
# apart by the RIP after it. The host never resumes at those RIPs: it loads the thread's user
# state afresh (registers and segments), so no path here returns to the guest.
        .set EXIT_PORT, 0xe0
        .set PREEMPT_VECTOR, 32
        # x2APIC registers (MSRs): end of interrupt, spurious-interrupt vector, LVT timer,
        # timer initial count, timer divide configuration.
        .set X2APIC_EOI, 0x80b
        .set X2APIC_SVR, 0x80f
        .set X2APIC_LVT_TIMER, 0x832
        .set X2APIC_TMICT, 0x838
        .set X2APIC_TDCR, 0x83e
        .code64
        .text

# Exceptions 0-31 and interrupts 32-47: 16 bytes each. The CPU pushes an error code for some
# vectors; the others push 0, so the frame is the same for all: vector, error code, then the
# CPU's RIP, CS, RFLAGS, RSP, SS.
        .macro vector n
        .org \n * 16
vector_\n\():
        .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
        .else
        pushq $0
        .endif
        pushq $\n
        jmp exception_exit
        .endm

        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        vector \n
        .endr
        .irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
        vector \n
        .endr

        .org 0x400
exception_exit:
        out %al, $EXIT_PORT
        ud2

# With an in-kernel irqchip the IDT sends PREEMPT_VECTOR here instead (its timer, or a kick
# sent as an MSI): the interrupt is acknowledged, so that the next one is delivered, then
# reported like an exception. The registers wrmsr needs are put back first: the host reads
# the thread's registers at the exit. (Without an irqchip there is no LAPIC to acknowledge:
# wrmsr would fault.)
        .org 0x440
lapic_interrupt:
        push %rax
        push %rcx
        push %rdx
        mov $X2APIC_EOI, %ecx
        xor %eax, %eax
        xor %edx, %edx
        wrmsr
        pop %rdx
        pop %rcx
        pop %rax
        jmp vector_32 # PREEMPT_VECTOR's own entry

# Applies page-table updates that take rights away (unmap, mprotect), which the host may not
# write itself: a shadow MMU only notices writes the guest makes. RDI points at the vCPU's
# mailbox: a count, then (PTE address, new value, user address) triples, kernel-virtual. User
# address 0 (never mapped) means no invlpg: the tables of a dead address space, which no CPU
# will translate through again before a CR3 load (each invlpg traps to the host on PVM).
# The last triple goes first and the count drops after each, so that a run interrupted by a
# kick (the host runs the routine again from the start) resumes where it stopped: restarting
# whole batches of trapped writes could livelock under frequent signals (measured: 1,191 runs
# instead of 223 for ffmpeg's start under a 1 kHz profiler).
        .org 0x480
apply_pte_updates:
1:      mov (%rdi), %rcx
        test %rcx, %rcx
        jz 2f
        lea (%rcx,%rcx,2), %rax
        lea -16(%rdi,%rax,8), %rsi
        mov (%rsi), %rax
        mov 8(%rsi), %rdx
        mov %rdx, (%rax)
        mov 16(%rsi), %rax
        test %rax, %rax
        jz 3f
        invlpg (%rax)
3:      decq (%rdi)
        jmp 1b
2:      jmp pte_updates_done
        .org 0x4c0
pte_updates_done:
        out %al, $EXIT_PORT
        ud2

# Programs this vCPU's x2APIC timer: software-enabled APIC (spurious vector 47, which the host
# ignores), periodic timer on PREEMPT_VECTOR counting at the APIC bus clock divided by 1, and
# EDI as the initial count (0 stops the timer). Run by the host with interrupts disabled.
        .org 0x500
program_apic_timer:
        mov $X2APIC_SVR, %ecx
        mov $0x12f, %eax
        xor %edx, %edx
        wrmsr
        mov $X2APIC_TDCR, %ecx
        mov $0xb, %eax
        wrmsr
        mov $X2APIC_LVT_TIMER, %ecx
        mov $(0x20000 | PREEMPT_VECTOR), %eax
        wrmsr
        mov $X2APIC_TMICT, %ecx
        mov %edi, %eax
        wrmsr
        jmp apic_timer_done
        .org 0x540
apic_timer_done:
        out %al, $EXIT_PORT
        ud2

# The syscall entry (LSTAR), on its own user-accessible page: on PVM `syscall` lands here
# still in ring 3; on VMX/SVM in ring 0. Either way the host completes the call and loads the
# return state (RIP = RCX, RFLAGS = R11).
        .org 0x1000
syscall_entry:
        out %al, $EXIT_PORT
        ud2
        .org 0x2000
