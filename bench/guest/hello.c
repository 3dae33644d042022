// Start-up cost: a dynamically linked hello.
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
