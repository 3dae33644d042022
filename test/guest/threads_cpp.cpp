/*
 * threads_cpp.cpp - C++17 threading on libstdc++ (glibc build only):
 * std::thread + join, thread ids, std::mutex / lock_guard / unique_lock /
 * scoped_lock, std::shared_mutex, std::condition_variable (notify_one,
 * notify_all, wait_for timeout -> std::cv_status::timeout), std::atomic<long>,
 * std::shared_ptr copies across threads, std::async / std::future (async,
 * deferred, exception propagation), std::promise, std::call_once,
 * thread_local (with constructors and destructors), sleep_for.
 *
 * Only scheduling-independent results are printed, from the main thread.
 */
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include "check.h"

using namespace std::chrono_literals;

static constexpr int kThreads = 4;
static constexpr long kIters = 20000;

/* ------------------------------------------------------------------ */

static void test_thread_join()
{
    printf("-- std::thread\n");
    std::vector<long> results(kThreads, 0);
    std::vector<std::thread::id> ids(kThreads);
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([i, &results, &ids] {
            ids[i] = std::this_thread::get_id();
            long s = 0;
            for (long k = 1; k <= 1000; k++)
                s += k * (i + 1);
            results[i] = s;
        });
    EXPECT("joinable before join", ts[0].joinable());
    std::vector<std::thread::id> handle_ids;
    for (auto &t : ts)
        handle_ids.push_back(t.get_id());
    for (auto &t : ts)
        t.join();
    EXPECT("not joinable after join", !ts[0].joinable());
    EXPECT("default-constructed not joinable", !std::thread().joinable());
    for (int i = 0; i < kThreads; i++)
        printf("thread %d result: %ld\n", i, results[i]);
    bool distinct = true, match = true;
    for (int i = 0; i < kThreads; i++) {
        if (ids[i] == std::this_thread::get_id() || ids[i] == std::thread::id())
            distinct = false;
        if (ids[i] != handle_ids[i])
            match = false;
        for (int j = 0; j < i; j++)
            if (ids[i] == ids[j])
                distinct = false;
    }
    printf("thread ids: %s\n", distinct ? "distinct" : "NOT distinct");
    if (!distinct)
        check_failures++;
    EXPECT("get_id in thread == thread::get_id()", match);
    unsigned hc = std::thread::hardware_concurrency();
    printf("hardware_concurrency: %s\n", hc >= 1 ? ">= 1" : "0");
    if (hc < 1)
        check_failures++;

    /* a moved-from std::thread, and a thread taking arguments by value/ref */
    long out = 0;
    std::thread t1([](long a, long b, long &o) { o = a * b; }, 6L, 7L, std::ref(out));
    std::thread t2 = std::move(t1);
    EXPECT("moved-from not joinable", !t1.joinable());
    t2.join();
    printf("thread with args: %ld\n", out);
}

/* ------------------------------------------------------------------ */

static void test_mutex()
{
    printf("-- std::mutex\n");
    std::mutex m;
    long counter = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([&] {
            for (long k = 0; k < kIters / 4; k++) {
                std::lock_guard<std::mutex> g(m);
                counter++;
            }
        });
    for (auto &t : ts)
        t.join();
    printf("lock_guard counter: %ld\n", counter);
    if (counter != kThreads * (kIters / 4))
        check_failures++;

    bool other_try = true;
    {
        std::unique_lock<std::mutex> ul(m);
        EXPECT("unique_lock owns", ul.owns_lock());
        std::thread([&] { other_try = m.try_lock(); }).join();
        ul.unlock();
        EXPECT("unique_lock released", !ul.owns_lock());
    }
    EXPECT("try_lock from other thread while held fails", !other_try);
    std::thread([&] {
        other_try = m.try_lock();
        if (other_try)
            m.unlock();
    }).join();
    EXPECT("try_lock from other thread when free", other_try);

    std::recursive_mutex rm;
    rm.lock();
    bool re = rm.try_lock();
    EXPECT("recursive_mutex try_lock by owner", re);
    if (re)
        rm.unlock();
    rm.unlock();

    /* scoped_lock over two mutexes, taken in opposite orders */
    std::mutex a, b;
    long pairs = 0;
    std::thread x([&] {
        for (int k = 0; k < 2000; k++) {
            std::scoped_lock l(a, b);
            pairs++;
        }
    });
    std::thread y([&] {
        for (int k = 0; k < 2000; k++) {
            std::scoped_lock l(b, a);
            pairs++;
        }
    });
    x.join();
    y.join();
    printf("scoped_lock pairs: %ld\n", pairs);
    if (pairs != 4000)
        check_failures++;

    std::timed_mutex tm;
    tm.lock();
    bool got = true;
    std::thread([&] { got = tm.try_lock_for(30ms); }).join();
    tm.unlock();
    EXPECT("timed_mutex try_lock_for times out", !got);
}

/* ------------------------------------------------------------------ */

static void test_shared_mutex()
{
    printf("-- std::shared_mutex\n");
    std::shared_mutex sm;
    bool try_shared = false, try_excl = true;
    {
        std::shared_lock<std::shared_mutex> r(sm);
        std::thread([&] {
            try_shared = sm.try_lock_shared();
            if (try_shared)
                sm.unlock_shared();
            try_excl = sm.try_lock();
            if (try_excl)
                sm.unlock();
        }).join();
    }
    EXPECT("try_lock_shared while shared held", try_shared);
    EXPECT("try_lock while shared held fails", !try_excl);
    {
        std::unique_lock<std::shared_mutex> w(sm);
        std::thread([&] {
            try_shared = sm.try_lock_shared();
            if (try_shared)
                sm.unlock_shared();
        }).join();
    }
    EXPECT("try_lock_shared while exclusive held fails", !try_shared);
}

/* ------------------------------------------------------------------ */

static void test_condvar()
{
    printf("-- std::condition_variable\n");
    std::mutex m;
    std::condition_variable cv;

    /* wait_for with nobody notifying */
    {
        std::unique_lock<std::mutex> lk(m);
        auto t0 = std::chrono::steady_clock::now();
        std::cv_status st;
        do
            st = cv.wait_for(lk, 50ms);
        while (st == std::cv_status::no_timeout); /* spurious wakeups: nobody notifies */
        auto el = std::chrono::steady_clock::now() - t0;
        printf("wait_for 50ms: %s\n", st == std::cv_status::timeout ? "timeout" : "no_timeout");
        if (st != std::cv_status::timeout)
            check_failures++;
        EXPECT("waited >= 50ms", el >= 50ms);
        bool r = cv.wait_for(lk, 20ms, [] { return false; });
        EXPECT("wait_for with false predicate returns false", !r);
        r = cv.wait_until(lk, std::chrono::system_clock::now() + 20ms, [] { return false; });
        EXPECT("wait_until(system_clock) with false predicate returns false", !r);
    }

    /* notify_one: hand-off of items through a one-slot mailbox */
    int slot = 0;
    bool full = false;
    long sum = 0;
    std::condition_variable not_full, not_empty;
    std::thread cons([&] {
        for (;;) {
            std::unique_lock<std::mutex> lk(m);
            not_empty.wait(lk, [&] { return full; });
            int v = slot;
            full = false;
            not_full.notify_one();
            if (v < 0)
                break;
            sum += v;
        }
    });
    for (int i = 1; i <= 300; i++) {
        std::unique_lock<std::mutex> lk(m);
        not_full.wait(lk, [&] { return !full; });
        slot = i;
        full = true;
        not_empty.notify_one();
    }
    {
        std::unique_lock<std::mutex> lk(m);
        not_full.wait(lk, [&] { return !full; });
        slot = -1;
        full = true;
        not_empty.notify_one();
    }
    cons.join();
    printf("mailbox sum: %ld\n", sum);
    if (sum != 300 * 301 / 2)
        check_failures++;

    /* notify_all: release 4 waiters */
    int ready = 0, woken = 0;
    bool go = false;
    std::condition_variable ready_cv;
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([&] {
            std::unique_lock<std::mutex> lk(m);
            ready++;
            ready_cv.notify_one();
            cv.wait(lk, [&] { return go; });
            woken++;
        });
    {
        std::unique_lock<std::mutex> lk(m);
        ready_cv.wait(lk, [&] { return ready == kThreads; });
        go = true;
    }
    cv.notify_all();
    for (auto &t : ts)
        t.join();
    printf("notify_all woke: %d\n", woken);
    if (woken != kThreads)
        check_failures++;

    /* wait_for that is notified before the timeout */
    bool flag = false;
    std::thread n([&] {
        std::this_thread::sleep_for(10ms);
        std::lock_guard<std::mutex> g(m);
        flag = true;
        cv.notify_one();
    });
    bool r;
    {
        std::unique_lock<std::mutex> lk(m);
        r = cv.wait_for(lk, 10s, [&] { return flag; });
    }
    n.join();
    EXPECT("wait_for notified before 10s timeout", r);
}

/* ------------------------------------------------------------------ */

static void test_atomic()
{
    printf("-- std::atomic\n");
    std::atomic<long> a{0};
    std::atomic<int> cas_counter{0};
    std::atomic_flag spin = ATOMIC_FLAG_INIT;
    long plain = 0;
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([&] {
            for (long k = 0; k < kIters; k++)
                a.fetch_add(1);
            for (long k = 0; k < kIters / 4; k++) {
                int cur = cas_counter.load(std::memory_order_relaxed);
                while (!cas_counter.compare_exchange_weak(cur, cur + 1))
                    ;
            }
            for (long k = 0; k < kIters / 4; k++) {
                int spins = 0;
                while (spin.test_and_set(std::memory_order_acquire))
                    if (++spins % 64 == 0)
                        std::this_thread::yield();
                plain++;
                spin.clear(std::memory_order_release);
            }
        });
    for (auto &t : ts)
        t.join();
    printf("atomic<long> fetch_add: %ld\n", a.load());
    printf("atomic<int> CAS loop: %d\n", cas_counter.load());
    printf("atomic_flag spinlock counter: %ld\n", plain);
    if (a.load() != kThreads * kIters || cas_counter.load() != kThreads * (kIters / 4) ||
        plain != kThreads * (kIters / 4))
        check_failures++;
    EXPECT("atomic<long> is lock-free", a.is_lock_free());
    long old = a.exchange(5);
    printf("exchange: old %ld new %ld\n", old, a.load());
}

/* ------------------------------------------------------------------ */

static std::atomic<int> widget_dtors{0};
struct Widget {
    long value;
    explicit Widget(long v) : value(v) {}
    ~Widget() { widget_dtors++; }
};

static void test_shared_ptr()
{
    printf("-- std::shared_ptr\n");
    auto sp = std::make_shared<Widget>(42);
    std::weak_ptr<Widget> wp = sp;
    std::mutex m;
    std::condition_variable cv;
    int holding = 0;
    bool release = false;
    std::atomic<long> seen{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([&m, &cv, &holding, &release, &seen, &wp, mine = sp] {
            for (int k = 0; k < 5000; k++) {
                std::shared_ptr<Widget> c = mine;
                std::shared_ptr<Widget> l = wp.lock();
                if (c && l)
                    seen += c->value == 42 && l.get() == c.get();
            }
            std::unique_lock<std::mutex> lk(m);
            holding++;
            cv.notify_all();
            cv.wait(lk, [&] { return release; });
        });
    long mid;
    {
        std::unique_lock<std::mutex> lk(m);
        cv.wait(lk, [&] { return holding == kThreads; });
        mid = sp.use_count();
        release = true;
    }
    cv.notify_all();
    for (auto &t : ts)
        t.join();
    printf("use_count while %d threads hold a copy: %ld\n", kThreads, mid);
    printf("use_count after join: %ld\n", sp.use_count());
    printf("copies checked: %ld\n", seen.load());
    if (mid != kThreads + 1 || sp.use_count() != 1 || seen.load() != kThreads * 5000)
        check_failures++;
    printf("destructors before reset: %d\n", widget_dtors.load());
    sp.reset();
    printf("destructors after reset: %d, weak expired: %s\n", widget_dtors.load(), wp.expired() ? "yes" : "no");
    if (widget_dtors.load() != 1 || !wp.expired())
        check_failures++;
}

/* ------------------------------------------------------------------ */

static void test_async()
{
    printf("-- std::async / std::future\n");
    auto main_id = std::this_thread::get_id();
    auto f1 = std::async(std::launch::async, [main_id] {
        long s = 0;
        for (long k = 1; k <= 100; k++)
            s += k;
        return std::this_thread::get_id() != main_id ? s : -1;
    });
    auto f2 = std::async(std::launch::deferred, [main_id] {
        return std::this_thread::get_id() == main_id ? std::string("deferred on caller") : std::string("wrong thread");
    });
    auto st = f2.wait_for(0ms);
    printf("deferred wait_for: %s\n", st == std::future_status::deferred ? "deferred" : "other");
    if (st != std::future_status::deferred)
        check_failures++;
    long v1 = f1.get();
    printf("async result (other thread): %ld\n", v1);
    if (v1 != 5050)
        check_failures++;
    std::string v2 = f2.get();
    printf("deferred result: %s\n", v2.c_str());
    EXPECT("future invalid after get", !f1.valid());

    auto f3 = std::async(std::launch::async, []() -> int { throw std::runtime_error("boom from thread"); });
    try {
        f3.get();
        printf("exception: not thrown\n");
        check_failures++;
    } catch (const std::runtime_error &e) {
        printf("exception from async: %s\n", e.what());
    }

    /* promise fulfilled by another thread only after the main thread says so */
    std::promise<int> go, result;
    std::future<int> go_f = go.get_future();
    std::future<int> res_f = result.get_future();
    std::thread t([&] {
        int g = go_f.get();
        result.set_value(g * 2);
    });
    auto st2 = res_f.wait_for(10ms);
    printf("promise wait_for before set: %s\n", st2 == std::future_status::timeout ? "timeout" : "other");
    if (st2 != std::future_status::timeout)
        check_failures++;
    go.set_value(21);
    printf("promise value: %d\n", res_f.get());
    t.join();

    std::vector<std::future<long>> fs;
    for (int i = 0; i < kThreads; i++)
        fs.push_back(std::async(std::launch::async, [i] { return (long)(i + 1) * 1000; }));
    long total = 0;
    for (auto &f : fs)
        total += f.get();
    printf("4 async tasks total: %ld\n", total);
}

/* ------------------------------------------------------------------ */

static std::once_flag once;
static int once_runs = 0;

static void test_call_once()
{
    printf("-- std::call_once\n");
    std::atomic<int> calls{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([&] {
            calls++;
            std::call_once(once, [] {
                once_runs++;
                std::this_thread::yield();
            });
        });
    for (auto &t : ts)
        t.join();
    std::call_once(once, [] { once_runs += 100; });
    printf("call_once: %d calls, initialiser ran %d time(s)\n", calls.load(), once_runs);
    if (once_runs != 1)
        check_failures++;
}

/* ------------------------------------------------------------------ */

static std::atomic<int> tl_ctors{0}, tl_dtors{0};
struct TLObject {
    std::string name;
    long hits = 0;
    TLObject() : name("tl-object") { tl_ctors++; }
    ~TLObject() { tl_dtors++; }
};

static thread_local int tl_int = 11;
static thread_local TLObject tl_obj;

static void test_thread_local()
{
    printf("-- thread_local\n");
    tl_int = 1;
    std::vector<int> initial(kThreads), finals(kThreads);
    std::vector<const void *> addrs(kThreads);
    std::vector<std::thread> ts;
    for (int i = 0; i < kThreads; i++)
        ts.emplace_back([i, &initial, &finals, &addrs] {
            initial[i] = tl_int;
            addrs[i] = &tl_int;
            tl_int = (i + 1) * 10;
            for (int k = 0; k < 100; k++) {
                tl_obj.hits++;
                std::this_thread::yield();
            }
            finals[i] = tl_int + (int)tl_obj.hits;
        });
    for (auto &t : ts)
        t.join();
    for (int i = 0; i < kThreads; i++)
        printf("thread %d: initial %d final %d\n", i, initial[i], finals[i]);
    bool distinct = true;
    for (int i = 0; i < kThreads; i++) {
        if (addrs[i] == &tl_int)
            distinct = false;
        for (int j = 0; j < i; j++)
            if (addrs[i] == addrs[j])
                distinct = false;
    }
    printf("thread_local addresses: %s\n", distinct ? "distinct" : "NOT distinct");
    printf("main tl_int: %d\n", tl_int);
    printf("thread_local object: %d constructed, %d destroyed\n", tl_ctors.load(), tl_dtors.load());
    bool ok = distinct && tl_int == 1 && tl_ctors.load() == kThreads && tl_dtors.load() == kThreads;
    for (int i = 0; i < kThreads; i++)
        if (initial[i] != 11 || finals[i] != (i + 1) * 10 + 100)
            ok = false;
    if (!ok)
        check_failures++;
}

/* ------------------------------------------------------------------ */

static void test_sleep()
{
    printf("-- sleep\n");
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(20ms);
    auto el = std::chrono::steady_clock::now() - t0;
    EXPECT("sleep_for 20ms slept >= 20ms", el >= 20ms);
    t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_until(t0 + 10ms);
    EXPECT("sleep_until reached", std::chrono::steady_clock::now() >= t0 + 10ms);
}

int main()
{
    printf("threads_cpp test\n");
    test_thread_join();
    test_mutex();
    test_shared_mutex();
    test_condvar();
    test_atomic();
    test_shared_ptr();
    test_async();
    test_call_once();
    test_thread_local();
    test_sleep();
    return FINISH();
}
