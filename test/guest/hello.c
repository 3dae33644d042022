/* hello.c - the smallest differential test: argv[0] basename, a greeting, argc. */
#include <stdio.h>
#include "check.h"

int main(int argc, char **argv)
{
    printf("argv0: %s\n", argc > 0 && argv[0] ? base_name(argv[0]) : "(none)");
    printf("hello, world\n");
    printf("argc: %d\n", argc);
    return 0;
}
