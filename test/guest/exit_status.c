/* exit_status.c - exit-status propagation: prints a line, then exit(42).
 * The buffered line must be flushed by exit() before the process ends. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    printf("exiting with status 42\n"); /* stays buffered until exit() */
    exit(42);
}
