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

# The syscall entries (LSTAR), on their own user-accessible page. On VMX/SVM `syscall` lands
# in ring 0 and LSTAR is syscall_exit: the host completes the call and loads the return state
# (RIP = RCX, RFLAGS = R11). On PVM it lands here still in ring 3, and LSTAR is vCPU k's own
# entry: the call goes through the address space's syscall mailbox (shared-mem/kvm-area.ts,
# SyscallSlot), which vCPU 0's worker serves without an exit while it polls; otherwise, or
# when the host declines, the call leaves through syscall_exit as on VMX. SFMASK keeps IF
# set on PVM: `popfq` cannot set it in ring 3, and an interrupt here is resolved by the host
# from the slot (kvm-backend.ts, resolveStub), by the phase the labels below delimit.
        .set MAILBOX_VA, 0xffffff7fffffe000
        .set SLOT_BYTES, 128
        .set SLOT_STATE, 0
        .set SLOT_POLLING, 4
        .set SLOT_NR, 8
        .set SLOT_ARGS, 16
        .set SLOT_RIP, 64
        .set SLOT_RFLAGS, 72
        .set SLOT_RESULT, 80
        .set SLOT_USER_RSP, 88
        .set SLOT_GIVE_UPS, 96
        .set SLOT_STACK_TOP, 128
        .set STATE_IDLE, 0
        .set STATE_REQUEST, 1
        .set STATE_TAKEN, 2
        .set STATE_DONE, 3
        .set STATE_DONE_YIELD, 4
        .set ENTRY_STRIDE, 32
        # About 100 us of `pause` on these AMD EPYC hosts (25 ns each), about twice that on
        # Intel's since Skylake: a few exits' worth, and longer than most of the times vCPU 0's
        # worker is away (a collection, a trap it serves).
        .set SPIN_LIMIT, 4096
        .set MAX_CPUS, 64

        # The host tells the phases apart by these offsets (Stub in shared-mem/kvm-area.ts):
        # each phase starts at an .org, and the labels inside one are checked against it
        # (no jump between them, so the distance is known when this is assembled).
        .macro check label, from, distance
        .if \label - \from != \distance
        .error "shim.S: \label moved: update Stub in shared-mem/kvm-area.ts"
        .endif
        .endm

# vCPU k's entry: saves the number into its slot, then takes the slot's address in RAX.
        .org 0x1000
syscall_entries:
        .set cpu, 0
        .rept MAX_CPUS
        .org 0x1000 + cpu * ENTRY_STRIDE
        movabs %rax, MAILBOX_VA + cpu * SLOT_BYTES + SLOT_NR
        movabs $(MAILBOX_VA + cpu * SLOT_BYTES), %rax
        jmp publish
        .set cpu, cpu + 1
        .endr

# Phase "before": nothing published; the host may send the thread back to its `syscall`.
        .org 0x1800
publish:
        mov %rcx, SLOT_RIP(%rax)
        mov %r11, SLOT_RFLAGS(%rax)
rflags_saved:
        mov %rax, %rcx
slot_in_rcx:
        mov %rdi, SLOT_ARGS(%rcx)
        mov %rsi, SLOT_ARGS + 8(%rcx)
        mov %rdx, SLOT_ARGS + 16(%rcx)
        mov %r10, SLOT_ARGS + 24(%rcx)
        mov %r8, SLOT_ARGS + 32(%rcx)
        mov %r9, SLOT_ARGS + 40(%rcx)
        mov $STATE_REQUEST, %eax
        xchg %eax, SLOT_STATE(%rcx)     # a full barrier before reading POLLING (Dekker)
# Phase "published": the host withdraws the request, or takes the server's answer. The stub
# waits for an answer only a bounded time while nobody has taken the call (vCPU 0's worker may
# have lost its host CPU: on a busy host, spinning on would only keep it off longer).
published:
        cmpl $0, SLOT_POLLING(%rcx)
        je withdraw
        mov $SPIN_LIMIT, %r11d
wait:
        pause
        mov SLOT_STATE(%rcx), %eax
        cmp $STATE_TAKEN, %eax
        je wait                         # being served: the answer comes within microseconds
        ja answered
        dec %r11d                       # still REQUEST
        jnz wait
        incl SLOT_GIVE_UPS(%rcx)        # tells vCPU 0 that its polling did not pay
withdraw:
        mov $STATE_REQUEST, %eax
        xor %r11d, %r11d                # STATE_IDLE
        lock cmpxchg %r11d, SLOT_STATE(%rcx)
        jne wait                        # the server took it first
        jmp declined
answered:
        cmp $STATE_DONE, %eax
        je done
        cmp $STATE_DONE_YIELD, %eax
        je done_yield
        .org 0x1870, 0x90
# Phase "declined": the call leaves as a syscall exit, its registers as `syscall` left them.
declined:
        mov SLOT_NR(%rcx), %rax
        mov SLOT_RFLAGS(%rcx), %r11
        mov SLOT_RIP(%rcx), %rcx
syscall_exit:
        out %al, $EXIT_PORT
        ud2
        .org 0x1880, 0xcc
# Phase "answered": served; the thread returns with the result (through yield_exit when the
# host wants the vCPU: a signal to deliver, a thread to run).
done_yield:
        mov SLOT_RESULT(%rcx), %rax
        mov SLOT_RFLAGS(%rcx), %r11
        mov SLOT_RIP(%rcx), %rcx
yield_exit:
        out %al, $EXIT_PORT
        ud2
        .org 0x1890, 0xcc
done:
        mov %rsp, SLOT_USER_RSP(%rcx)
on_slot_stack:
        lea SLOT_STACK_TOP(%rcx), %rsp
        pushq SLOT_RFLAGS(%rcx)
        popfq
        mov SLOT_USER_RSP(%rcx), %rsp
        mov SLOT_RESULT(%rcx), %rax
        mov SLOT_RFLAGS(%rcx), %r11
        mov SLOT_RIP(%rcx), %rcx
        jmp *%rcx
stub_end:
        check rflags_saved, publish, 8
        check slot_in_rcx, publish, 0xb
        check published, publish, 0x2a
        check syscall_exit, declined, 0xc
        check yield_exit, done_yield, 0xc
        check on_slot_stack, done, 4
        check stub_end, done, 0x21
        .org 0x2000
