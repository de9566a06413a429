/* A C program that runs PAM sessions the ways real hosts do, for the tests of
 * pam_pyutmp.so (tests/e2e/test_loader_native.py) and for bench/.
 *
 *   pam_host session SVC USER           one session
 *   pam_host fork SVC USER              open, fork, close and pam_end in the child,
 *                                       pam_end (no close) in the parent
 *   pam_host threads N SVC USER         N threads open and close sessions at once
 *   pam_host fork-busy N SVC USER       a thread runs sessions without pause while
 *                                       the main thread forks N children that each
 *                                       run a session
 *   pam_host cycles N SVC USER          N sessions in a row; VmRSS after 100 and at the end
 *   pam_host bench N SVC...             N sessions of each SVC, taking turns; the time
 *                                       of each, in seconds
 *   pam_host isolation SVC USER         one session; what it changed of the process
 *                                       (signal dispositions, locale)
 *   pam_host storm N SVC USER MS WARM   N children released together, each opening a
 *                                       session, sleeping 0..MS ms and closing it; the
 *                                       status and time of each open and close
 *   pam_host kill N SVC USER MS WARM    the same, each child killed (SIGKILL) at a random
 *                                       moment: while opening, while open or while
 *                                       closing; where each was when it died
 *   pam_host cases SECONDS WARM         one child per line of stdin, "SVC USER TTY RHOST
 *                                       RUSER" (each "x" and hex, "-" for unset), each run
 *                                       under alarm(SECONDS); its codes, time and status
 *
 * A session is pam_start, PAM_TTY (the environment's PAM_HOST_TTY, if set),
 * pam_open_session, pam_close_session, pam_end.  Output is one JSON object.
 * WARM is a service whose session the parent runs before it forks ("-": none),
 * so that pam_pyutmp.so's Python is started once and the children inherit it,
 * as in a forking server.  PAM_HOST_SEED seeds the sleeps and kill moments.
 * Built with -DFAKE_PYTHON, the program claims to run Python 3.99 (it exports
 * Py_IsInitialized and Py_GetVersion, which the module then finds first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#ifdef FAKE_PYTHON
int Py_IsInitialized(void) { return 1; }
const char *Py_GetVersion(void) { return "3.99.0 (fake, for the tests)"; }
#endif

/* Text messages (the "Last login" line) are counted, prompts get no answer. */
static int messages;

static int converse(int n, const struct pam_message **msg, struct pam_response **resp,
                    void *data)
{
    (void)data;
    *resp = calloc((size_t)n, sizeof(**resp));
    if (!*resp)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++)
        if (msg[i]->msg_style == PAM_TEXT_INFO)
            __atomic_add_fetch(&messages, 1, __ATOMIC_RELAXED);
    return PAM_SUCCESS;
}

static const struct pam_conv conv = {converse, NULL};

struct session {
    const char *service, *user;
    int start, open, close, end; /* each call's status; -1: not made */
};

static pam_handle_t *begin(struct session *s)
{
    pam_handle_t *pamh = NULL;
    const char *tty = getenv("PAM_HOST_TTY");

    s->open = s->close = s->end = -1;
    s->start = pam_start(s->service, s->user, &conv, &pamh);
    if (s->start != PAM_SUCCESS)
        return NULL;
    if (tty)
        pam_set_item(pamh, PAM_TTY, tty);
    s->open = pam_open_session(pamh, 0);
    return pamh;
}

static void run_session(struct session *s)
{
    pam_handle_t *pamh = begin(s);

    if (!pamh)
        return;
    s->close = pam_close_session(pamh, 0);
    s->end = pam_end(pamh, s->close);
}

static int ok(const struct session *s)
{
    return s->start == 0 && s->open == 0 && s->close == 0 && s->end == 0;
}

static void print_session(const struct session *s)
{
    printf("{\"start\": %d, \"open\": %d, \"close\": %d, \"end\": %d}", s->start, s->open,
           s->close, s->end);
}

static long vm_rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *status = fopen("/proc/self/status", "r");

    while (status && fgets(line, sizeof(line), status))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (status)
        fclose(status);
    return kb;
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int session_host(const char *service, const char *user)
{
    struct session s = {service, user, 0, 0, 0, 0};

    run_session(&s);
    printf("{\"session\": ");
    print_session(&s);
    printf(", \"messages\": %d}\n", messages);
    return 0;
}

/* Open here, close in a child: sshd and su close where they can. */
static int fork_host(const char *service, const char *user)
{
    struct session s = {service, user, 0, 0, 0, 0};
    pam_handle_t *pamh = begin(&s);
    int status = -1, child_close = -1, child_end = -1, fds[2];
    pid_t pid;

    if (!pamh || pipe(fds) != 0)
        return 1;
    pid = fork();
    if (pid == 0) {
        int codes[2];

        alarm(30); /* a hung child ends, and the test sees how */
        codes[0] = pam_close_session(pamh, 0);
        codes[1] = pam_end(pamh, codes[0] | PAM_DATA_SILENT);
        if (write(fds[1], codes, sizeof(codes)) != (ssize_t)sizeof(codes))
            _exit(2);
        _exit(0);
    }
    close(fds[1]);
    if (pid > 0) {
        int codes[2];

        if (read(fds[0], codes, sizeof(codes)) == (ssize_t)sizeof(codes)) {
            child_close = codes[0];
            child_end = codes[1];
        }
        waitpid(pid, &status, 0);
    }
    s.end = pam_end(pamh, PAM_SUCCESS);
    printf("{\"session\": ");
    print_session(&s);
    printf(", \"child_close\": %d, \"child_end\": %d, \"child_status\": %d}\n", child_close,
           child_end, status);
    return 0;
}

struct worker {
    struct session session;
    pthread_barrier_t *barrier;
    volatile int *stop;
    int rounds;
};

static void *open_at_once(void *arg)
{
    struct worker *w = arg;

    pthread_barrier_wait(w->barrier);
    run_session(&w->session);
    return NULL;
}

static int threads_host(int n, const char *service, const char *user)
{
    pthread_t *threads = calloc((size_t)n, sizeof(*threads));
    struct worker *workers = calloc((size_t)n, sizeof(*workers));
    pthread_barrier_t barrier;

    if (!threads || !workers)
        return 1;
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        workers[i].session = (struct session){service, user, 0, 0, 0, 0};
        workers[i].barrier = &barrier;
        pthread_create(&threads[i], NULL, open_at_once, &workers[i]);
    }
    printf("{\"sessions\": [");
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        printf(i ? ", " : "");
        print_session(&workers[i].session);
    }
    printf("]}\n");
    return 0;
}

/* Sessions on one handle, without pause: in Python most of the time, and never
 * in pam_start or pam_end, whose dlopen() and dlclose() a fork must not split
 * (ld.so then fails the child, with any module). */
static void *busy(void *arg)
{
    struct worker *w = arg;
    pam_handle_t *pamh = NULL;

    w->session.start = pam_start(w->session.service, w->session.user, &conv, &pamh);
    while (w->session.start == PAM_SUCCESS && !*w->stop) {
        w->session.open = pam_open_session(pamh, 0);
        w->session.close = pam_close_session(pamh, 0);
        if (w->session.open != PAM_SUCCESS || w->session.close != PAM_SUCCESS)
            break;
        w->rounds++;
    }
    if (pamh)
        w->session.end = pam_end(pamh, PAM_SUCCESS);
    return NULL;
}

/* The child's wait status; a child still running after SECONDS (hung inside
 * fork(), before it could arm an alarm) is killed: status SIGKILL. */
static int wait_bounded(pid_t pid, int seconds)
{
    int status = -1;

    for (int waited = 0; waited < seconds * 100; waited++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return status;
}

/* Forks while another thread is inside Python: without fork handlers in the
 * module, a child whose fork caught that thread holding the GIL hangs. */
static int fork_busy_host(int n, const char *service, const char *user)
{
    volatile int stop = 0;
    struct worker w = {{service, user, 0, 0, 0, 0}, NULL, &stop, 0};
    struct session first = {service, user, 0, 0, 0, 0};
    pthread_t thread;
    int ok_children = 0;

    run_session(&first); /* Python runs before the thread and the forks start */
    pthread_create(&thread, NULL, busy, &w);
    printf("{\"first\": ");
    print_session(&first);
    printf(", \"children\": [");
    for (int i = 0; i < n; i++) {
        int status = -1;
        pid_t pid;

        usleep(2000);
        pid = fork();
        if (pid == 0) {
            struct session s = {service, user, 0, 0, 0, 0};

            alarm(30);
            run_session(&s);
            _exit(ok(&s) ? 0 : 3);
        }
        if (pid > 0)
            status = wait_bounded(pid, 30);
        ok_children += pid > 0 && status == 0;
        printf(i ? ", %d" : "%d", status);
    }
    stop = 1;
    pthread_join(thread, NULL);
    printf("], \"ok_children\": %d, \"worker_rounds\": %d, \"worker\": ", ok_children, w.rounds);
    print_session(&w.session);
    printf("}\n");
    return 0;
}

static int cycles_host(int n, const char *service, const char *user)
{
    long after_100 = -1;
    int failed = 0;

    for (int i = 0; i < n; i++) {
        struct session s = {service, user, 0, 0, 0, 0};

        run_session(&s);
        failed += !ok(&s);
        if (i == 99)
            after_100 = vm_rss_kb();
    }
    printf("{\"cycles\": %d, \"failed\": %d, \"rss_kb_after_100\": %ld, \"rss_kb_end\": %ld, "
           "\"messages\": %d}\n", n, failed, after_100, vm_rss_kb(), messages);
    return 0;
}

static int bench_host(int n, int count, char **services, const char *user)
{
    double *times = calloc((size_t)n * (size_t)count, sizeof(*times));
    int failed = 0;

    if (!times)
        return 1;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < count; k++) {
            int j = (i + k) % count; /* rotate who goes first */
            struct session s = {services[j], user, 0, 0, 0, 0};
            double start = now();

            run_session(&s);
            times[(size_t)j * (size_t)n + (size_t)i] = now() - start;
            failed += !ok(&s);
        }
    }
    printf("{\"failed\": %d, \"times\": {", failed);
    for (int j = 0; j < count; j++) {
        printf("%s\"%s\": [", j ? ", " : "", services[j]);
        for (int i = 0; i < n; i++)
            printf("%s%.9f", i ? ", " : "", times[(size_t)j * (size_t)n + (size_t)i]);
        printf("]");
    }
    printf("}}\n");
    return 0;
}

/* Where a child of storm or kill is: the kill mode aims at the middle three. */
enum phase { WAITING, OPENING, OPEN, CLOSING, ENDING, DONE };

/* One child of storm or kill, in memory shared with the parent. */
struct timed {
    struct session s;
    int sleep_ms;         /* how long the session stays open */
    int kill_in;          /* the phase whose start arms the SIGKILL; 0: none */
    long kill_after_us;   /* how long after that start it comes */
    volatile int phase;   /* enum phase, written by the child: where it died */
    double open_s, close_s;
    pid_t pid;
    int wait_status;
};

/* A child that outlives this is hung: its alarm ends it, and its status says so. */
#define CHILD_SECONDS 120

/* A SIGKILL from a kernel timer: it comes at its moment whatever the scheduler
 * makes of the parent, and the child cannot see it coming. */
static void arm_kill(long after_us)
{
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGKILL};
    struct itimerspec when = {.it_value = {after_us / 1000000, after_us % 1000000 * 1000 + 1}};
    timer_t timer;

    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) == 0)
        timer_settime(timer, 0, &when, NULL);
}

static void enter(struct timed *t, enum phase phase)
{
    /* The phase first: a kill due at once must find the child in it. */
    __atomic_store_n(&t->phase, phase, __ATOMIC_RELEASE);
    if ((int)phase == t->kill_in)
        arm_kill(t->kill_after_us);
}

static void timed_session(struct timed *t)
{
    pam_handle_t *pamh = NULL;
    double start;

    t->s.start = pam_start(t->s.service, t->s.user, &conv, &pamh);
    if (t->s.start == PAM_SUCCESS) {
        enter(t, OPENING);
        start = now();
        t->s.open = pam_open_session(pamh, 0);
        t->open_s = now() - start;
        enter(t, OPEN);
        usleep((useconds_t)t->sleep_ms * 1000);
        enter(t, CLOSING);
        start = now();
        t->s.close = pam_close_session(pamh, 0);
        t->close_s = now() - start;
        enter(t, ENDING);
        t->s.end = pam_end(pamh, t->s.close);
    }
    enter(t, DONE);
}

/* The parent's session of WARM, so that its children inherit a started Python. */
static void warm_up(const char *warm, const char *user)
{
    struct session s = {warm, user, 0, 0, 0, 0};

    if (strcmp(warm, "-") != 0)
        run_session(&s);
}

/* When a child of the kill mode dies: a random phase, and a moment in it: anywhere
 * in its sleep when open, within about the time the call takes otherwise (an open
 * milliseconds, a close a fraction of one), so that most die inside the call. */
static void choose_kill(struct timed *t)
{
    long window_us[] = {0, 5000, (long)t->sleep_ms * 1000, 300};

    t->kill_in = OPENING + rand() % 3;
    t->kill_after_us = rand() % (window_us[t->kill_in] + 1);
}

/* N children, forked and blocked on a pipe, then released all at once by closing
 * its write end (a start gun: sharper than a barrier); their end reaped. */
static struct timed *run_timed(int n, const char *service, const char *user, int max_ms,
                               int kills)
{
    struct timed *t = mmap(NULL, (size_t)n * sizeof(*t), PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int gun[2];

    if (t == MAP_FAILED || pipe(gun) != 0)
        return NULL;
    for (int i = 0; i < n; i++) {
        char byte;
        pid_t pid;

        t[i] = (struct timed){{service, user, -1, -1, -1, -1}, rand() % (max_ms + 1), 0, 0,
                              WAITING, 0, 0, 0, -1};
        if (kills)
            choose_kill(&t[i]);
        pid = fork();
        if (pid == 0) {
            alarm(CHILD_SECONDS);
            close(gun[1]);
            if (read(gun[0], &byte, 1) < 0)
                _exit(2);
            timed_session(&t[i]);
            _exit(0);
        }
        t[i].pid = pid; /* by the parent alone: the memory is shared */
    }
    close(gun[0]);
    close(gun[1]); /* fire */
    for (int i = 0; i < n; i++)
        if (t[i].pid > 0)
            waitpid(t[i].pid, &t[i].wait_status, 0);
    return t;
}

/* The phase a child was killed in (by its timer); -1: it was not. */
static int killed_in(const struct timed *t)
{
    int status = t->wait_status;

    return t->pid > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? t->phase : -1;
}

static int timed_host(int n, const char *service, const char *user, int max_ms,
                      const char *warm, int kills)
{
    struct timed *t;

    warm_up(warm, user);
    t = run_timed(n, service, user, max_ms, kills);
    if (!t)
        return 1;
    printf("{\"sessions\": [");
    for (int i = 0; i < n; i++) {
        printf("%s{\"pid\": %d, \"status\": %d, \"start\": %d, \"open\": %d, \"close\": %d, "
               "\"end\": %d, \"open_s\": %.6f, \"close_s\": %.6f, \"killed_in\": %d}",
               i ? ", " : "", (int)t[i].pid, t[i].wait_status, t[i].s.start, t[i].s.open,
               t[i].s.close, t[i].s.end, t[i].open_s, t[i].close_s, killed_in(&t[i]));
    }
    printf("]}\n");
    return 0;
}

/* The bytes of "x" and their hex digits, NUL-terminated; NULL for "-" (the
 * item stays unset). */
static char *unhex(const char *word)
{
    size_t len = strlen(word) / 2;
    char *out;

    if (word[0] != 'x' || !(out = malloc(len + 1)))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned byte = 0;

        sscanf(word + 1 + 2 * i, "%2x", &byte);
        out[i] = (char)byte;
    }
    out[len] = '\0';
    return out;
}

/* One case in this process: the codes of its calls, written to FD. */
static void run_case(char **fields, int fd)
{
    static const int items[] = {PAM_TTY, PAM_RHOST, PAM_RUSER};
    struct session s = {fields[0], fields[1], 0, 0, 0, 0};
    pam_handle_t *pamh = NULL;

    s.open = s.close = s.end = -1;
    s.start = pam_start(s.service, s.user, &conv, &pamh);
    if (s.start == PAM_SUCCESS) {
        for (int k = 0; k < 3; k++)
            if (fields[2 + k])
                pam_set_item(pamh, items[k], fields[2 + k]);
        s.open = pam_open_session(pamh, 0);
        s.close = pam_close_session(pamh, 0);
        s.end = pam_end(pamh, s.close);
    }
    if (write(fd, &s, sizeof(s)) != (ssize_t)sizeof(s))
        _exit(2);
}

static int cases_host(int seconds, const char *warm)
{
    char *line = NULL;
    size_t size = 0;
    int n = 0;

    warm_up(warm, "root");
    printf("{\"cases\": [");
    while (getline(&line, &size, stdin) > 0) {
        char *fields[5] = {NULL}, *word, *rest = line;
        struct session s = {"", "", -1, -1, -1, -1};
        int fds[2], status = -1;
        double start = now();
        pid_t pid;

        for (int k = 0; k < 5 && (word = strtok_r(NULL, " \n", &rest)) != NULL; k++)
            fields[k] = unhex(word);
        if (!fields[0] || !fields[1] || pipe(fds) != 0)
            return 1;
        fflush(stdout); /* a child must not print what the parent buffered */
        pid = fork();
        if (pid == 0) {
            alarm((unsigned)seconds);
            close(fds[0]);
            run_case(fields, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        if (pid > 0) {
            status = wait_bounded(pid, seconds + 5);
            if (read(fds[0], &s, sizeof(s)) != (ssize_t)sizeof(s))
                s.start = s.open = s.close = s.end = -1;
        }
        close(fds[0]);
        printf("%s{\"status\": %d, \"start\": %d, \"open\": %d, \"close\": %d, \"end\": %d, "
               "\"seconds\": %.6f}", n++ ? ", " : "", status, s.start, s.open, s.close, s.end,
               now() - start);
        for (int k = 0; k < 5; k++)
            free(fields[k]);
    }
    printf("]}\n");
    free(line);
    return 0;
}

static void on_signal(int signum) { (void)signum; }

static int same_action(int signum, const struct sigaction *before)
{
    struct sigaction after;

    sigaction(signum, NULL, &after);
    return after.sa_handler == before->sa_handler && after.sa_flags == before->sa_flags;
}

/* A host's signal dispositions and locale are its own: the module must not
 * install Python's handlers (SIGINT, SIGPIPE ignored, SIGXFSZ ignored) or call
 * setlocale(). */
static int isolation_host(const char *service, const char *user)
{
    struct sigaction handler, sigint, sigpipe, sigxfsz;
    struct session s = {service, user, 0, 0, 0, 0};
    char locale[256];

    memset(&handler, 0, sizeof(handler));
    handler.sa_handler = on_signal;
    sigaction(SIGINT, &handler, NULL);
    sigaction(SIGINT, NULL, &sigint);
    sigaction(SIGPIPE, NULL, &sigpipe);
    sigaction(SIGXFSZ, NULL, &sigxfsz);
    snprintf(locale, sizeof(locale), "%s", setlocale(LC_ALL, NULL));
    run_session(&s);
    printf("{\"session\": ");
    print_session(&s);
    printf(", \"sigint_kept\": %s, \"sigpipe_kept\": %s, \"sigxfsz_kept\": %s, "
           "\"locale_kept\": %s, \"locale\": \"%s\", \"messages\": %d}\n",
           same_action(SIGINT, &sigint) ? "true" : "false",
           same_action(SIGPIPE, &sigpipe) ? "true" : "false",
           same_action(SIGXFSZ, &sigxfsz) ? "true" : "false",
           strcmp(locale, setlocale(LC_ALL, NULL)) == 0 ? "true" : "false", locale, messages);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (strcmp(mode, "session") == 0 && argc == 4)
        return session_host(argv[2], argv[3]);
    /* The sleeps and kill moments: a seed repeats a run. */
    srand(getenv("PAM_HOST_SEED") ? (unsigned)atoi(getenv("PAM_HOST_SEED"))
                                  : (unsigned)time(NULL) ^ (unsigned)getpid());
    if (strcmp(mode, "fork") == 0 && argc == 4)
        return fork_host(argv[2], argv[3]);
    if (strcmp(mode, "threads") == 0 && argc == 5)
        return threads_host(atoi(argv[2]), argv[3], argv[4]);
    if (strcmp(mode, "fork-busy") == 0 && argc == 5)
        return fork_busy_host(atoi(argv[2]), argv[3], argv[4]);
    if (strcmp(mode, "cycles") == 0 && argc == 5)
        return cycles_host(atoi(argv[2]), argv[3], argv[4]);
    if (strcmp(mode, "bench") == 0 && argc >= 4)
        return bench_host(atoi(argv[2]), argc - 3, argv + 3, "root");
    if (strcmp(mode, "isolation") == 0 && argc == 4)
        return isolation_host(argv[2], argv[3]);
    if ((strcmp(mode, "storm") == 0 || strcmp(mode, "kill") == 0) && argc == 7)
        return timed_host(atoi(argv[2]), argv[3], argv[4], atoi(argv[5]), argv[6],
                          strcmp(mode, "kill") == 0);
    if (strcmp(mode, "cases") == 0 && argc == 4)
        return cases_host(atoi(argv[2]), argv[3]);
    fprintf(stderr, "usage: see the comment at the top of pam_host.c\n");
    return 2;
}
