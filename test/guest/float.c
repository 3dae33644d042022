/*
 * float.c - floating point as programs see it: printf of doubles (glibc's lazy PLT binding
 * saves the argument registers with fxsave), long double (x87) arithmetic at extended
 * precision, SSE conversions and rounding, and the default control words. fmodl/remainderl
 * are left out: they use the x87 fprem instruction, which Unicorn 2.0.1 computes at double
 * precision (see docs/ARCHITECTURE.md, "Known engine limitations").
 */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void bits(const char *name, long double v)
{
    unsigned char b[16];
    memset(b, 0, sizeof b);
    memcpy(b, &v, 10);
    printf("%-12s ", name);
    for (int i = 9; i >= 0; i--)
        printf("%02x", b[i]);
    printf("\n");
}

int main(void)
{
    volatile double a = 173819.0, n = 3.0, big = 123456789.0;
    printf("doubles: %.1f %.3f %g %f %e\n", a / n, 1.5, big, 2.0, 12345.678);
    printf("more: %.17g %.10f %a\n", 1.0 / 3.0, M_PI, 0.1);
    volatile long double x = 57939.666666666666L, y = 3.0L;
    bits("x", x);
    bits("x/y", x / y);
    bits("x*y", x * y);
    bits("sqrtl", sqrtl(x));
    int e;
    bits("frexpl", frexpl(x, &e));
    printf("exponent %d\n", e);
    bits("ldexpl", ldexpl(x, 60));
    printf("long double printf: %.15Lf %.20Le\n", x / y, x);
    unsigned u = (unsigned)(x * 1000.0L);
    long long ll = (long long)(x * 1e9L);
    printf("conversions: %u %lld %ld %d\n", u, ll, lround(2.5), (int)-2.7);
    volatile float f = 1.0f / 3.0f;
    printf("float %.9g, rounded %.0f %.0f\n", f, rint(2.5), nearbyint(3.5));
    printf("rounding mode is nearest: %s\n", fegetround() == FE_TONEAREST ? "yes" : "no");
    fesetround(FE_UPWARD);
    printf("upward rint(2.1) = %.1f\n", rint(2.1));
    fesetround(FE_TONEAREST);
    printf("sin/cos/exp/log: %.12f %.12f %.12f %.12f\n", sin(1.0), cos(1.0), exp(1.0), log(10.0));
    printf("inf/nan: %f %f %d\n", 1.0 / 0.0 * a, sqrt(-a), isnan(sqrt(-a)));
    return 0;
}
