// An idle guest: 30 threads parked on a condition variable for 2 s, between the lines begin and
// end (the host CPU the runner uses between them is what counts).
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done;
static void *waiter(void *arg) {
  pthread_mutex_lock(&mu);
  while (!done) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return arg;
}
int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pthread_t th[30];
  for (int i = 0; i < 30; i++) pthread_create(&th[i], NULL, waiter, NULL);
  usleep(100000); // every waiter parked
  printf("begin\n");
  sleep(2);
  printf("end\n");
  usleep(300000); // alive while the runner reads its CPU time
  pthread_mutex_lock(&mu); done = 1; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu);
  for (int i = 0; i < 30; i++) pthread_join(th[i], NULL);
  return 0;
}
