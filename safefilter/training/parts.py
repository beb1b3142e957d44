"""Randomized parts of synthetic examples: hosts, ports, pools, wallets, clouds, tasks, observations.

Everything is drawn from one ``random.Random`` so a seed fixes the whole data set. Hosts mix
documentation ranges, private ranges, public-looking addresses and made-up domains.
"""
from __future__ import annotations

import random
import string


class Parts:
    """Random parts drawn from one random.Random."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def choice(self, seq):  # noqa: ANN001
        return self.r.choice(seq)

    def doc_ip(self) -> str:
        return f"{self.r.choice(['192.0.2', '198.51.100', '203.0.113'])}.{self.r.randint(1, 254)}"

    def public_ip(self) -> str:
        """A public-looking IPv4 address (not private, loopback, link-local or multicast)."""
        first = self.r.choice([a for a in range(1, 224) if a not in (10, 100, 127, 169, 172, 192)])
        return f"{first}.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"

    def priv_ip(self) -> str:
        c = self.r.random()
        if c < 0.4:
            return f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        if c < 0.7:
            return f"192.168.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        return f"172.{self.r.randint(16, 31)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"

    def subnet(self) -> str:
        ip = self.r.choice([self.priv_ip, self.priv_ip, self.doc_ip, self.public_ip])()
        return ip.rsplit(".", 1)[0] + ".0/" + self.r.choice(["24", "24", "16", "28", "20"])

    def domain(self) -> str:
        sub = self.r.choice(["", "", "relay.", "c2.", "vps.", "edge.", "srv.", "node1.", "files.", "api.", "cdn.",
                             "update.", "static.", "mail.", "ns1.", "gw."])
        base = self.r.choice(["example.com", "example.net", "example.org", "attacker.example", "evil.example",
                              "test-host.example.com", "cdn.example.net", "my-vps.xyz", "s3cure-sync.top",
                              "pastebin-mirror.ru", "tmp-share.io", "devops-cache.cc", "updates-linux.net",
                              "kali-box.duckdns.org", "home-lab.ddns.net", "0x7f.club", "box.hopto.org"])
        return sub + base

    def host(self) -> str:
        return self.r.choice([self.doc_ip, self.public_ip, self.public_ip, self.domain, self.domain])()

    def target(self) -> str:
        """A host to scan: mostly internal, sometimes public."""
        return self.r.choice([self.priv_ip, self.priv_ip, self.doc_ip, self.public_ip,
                              lambda: self.r.choice(["scanme.nmap.org", "db.internal", "10.0.0.1", "gateway.local",
                                                     "kubernetes.default.svc", "intranet.corp.example.com"])])()

    def port(self) -> int:
        return self.r.choice([22, 53, 80, 443, 1080, 1234, 2222, 4242, 4444, 5555, 6666, 7777, 8000, 8080, 8443,
                              8888, 9001, 9999, 12345, 31337, self.r.randint(1024, 65000)])

    def user(self) -> str:
        return self.r.choice(["root", "admin", "ubuntu", "ec2-user", "deploy", "git", "tunnel", "op", "backup",
                              "svc", "kali", "pi", "centos", "debian", "user", "www-data", "hacker", "x"])

    def name(self) -> str:
        return self.r.choice(["update", "sysd", "kworker", "helper", "cache", "agent", "svc", "dbus-x", "monitor",
                              "syncd", "logrotate2", ".x", "kthreadd", "systemd-net", "crond", "[kswapd0]", "php-fpm",
                              "node_exporter", "nginx-worker", ".ICE-unix", "sshd2", "irqbalance2", "tracker"])

    def tmp(self) -> str:
        return self.r.choice(["/tmp", "/var/tmp", "/dev/shm", "~/.cache", "/tmp/.x", "$HOME/.local/bin", "/tmp/.X11-unix",
                              "/opt/.cache", "/usr/local/share/.d", "/run/user/1000"])

    def pool_host(self) -> str:
        return self.r.choice([
            "pool.supportxmr.com", "xmr.nanopool.org", "xmr-eu1.nanopool.org", "gulf.moneroocean.stream",
            "pool.hashvault.pro", "xmrpool.eu", "monerohash.com", "xmr.2miners.com", "rvn.2miners.com",
            "etc.2miners.com", "kas.2miners.com", "eu1.ethermine.org", "us2.ethermine.org", "xmr.f2pool.com",
            "rx.unmineable.com", "etchash.unmineable.com", "randomxmonero.auto.nicehash.com", "kawpow.auto.nicehash.com",
            "auto.c3pool.org", "xmr.kryptex.network", "de.monero.herominers.com", "ca.ravencoin.herominers.com",
            "pool.woolypooly.com", "etc.hiveon.net", "stratum.braiins.com", "stratum.slushpool.com",
            "btc.viabtc.io", "ss.antpool.com", "randomx.zergpool.com", "xmr.pool.minergate.com", "mine.zpool.ca",
            "pool.example.net", "xmr.pool.example.com", "mine.example.org", "eu1.pool.example.net",
            "stratum.example.com", self.public_ip(), self.doc_ip(), self.domain()])

    def pool(self) -> str:
        return f"{self.pool_host()}:{self.r.choice([80, 443, 1111, 3032, 3333, 4444, 5555, 6666, 7777, 8008, 9000, 10001, 10128, 10300, 14433, 14444, 20128, 20535, 25300])}"

    def pool_url(self) -> str:
        scheme = self.r.choice(["stratum+tcp://", "stratum+tcp://", "stratum+ssl://", "stratum2+tcp://", "stratum1+tcp://",
                                "stratum+tls://", "ssl://", "tcp://", ""])
        return scheme + self.pool()

    def wallet(self) -> str:
        c = self.r.random()
        alnum = string.ascii_letters + string.digits
        if c < 0.4:
            return self.r.choice("48") + "".join(self.r.choice(alnum) for _ in range(94))
        if c < 0.7:
            return "0x" + "".join(self.r.choice("0123456789abcdef") for _ in range(40))
        if c < 0.8:
            return "bc1q" + "".join(self.r.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(38))
        if c < 0.9:
            return "R" + "".join(self.r.choice(alnum) for _ in range(33))
        return "kaspa:qr" + "".join(self.r.choice("023456789acdefghjklmnpqrstuvwxyz") for _ in range(59))

    def worker(self) -> str:
        return self.r.choice(["rig1", "worker1", "w01", "gpu0", "x", self.name().strip(".[]"), f"node{self.r.randint(1, 99)}"])

    def algo(self) -> str:
        return self.r.choice(["rx/0", "randomx", "cn/r", "kawpow", "ethash", "etchash", "autolykos2", "kheavyhash",
                              "octopus", "cryptonight", "sha256d", "scrypt", "yespower", "ghostrider", "equihash",
                              "zelhash", "beamhash", "blake3", "dynexsolve", "karlsenhash", "xelishash"])

    def region(self, cloud: str = "aws") -> str:
        return self.r.choice({
            "aws": ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1",
                    "ap-northeast-1", "sa-east-1", "ca-central-1", "ap-south-1"],
            "gcp": ["us-central1-a", "europe-west4-b", "asia-east1-c", "us-east4-c", "us-west1-b", "asia-southeast1-b"],
            "az": ["eastus", "eastus2", "westeurope", "southeastasia", "westus3", "northeurope", "japaneast"],
            "do": ["nyc3", "sfo3", "ams3", "fra1", "sgp1", "lon1", "tor1", "blr1"],
            "linode": ["us-east", "eu-west", "ap-south", "us-ord", "de-fra-2"],
            "vultr": ["ewr", "lax", "ams", "fra", "nrt", "sgp"],
            "hcloud": ["fsn1", "nbg1", "hel1", "ash", "hil"]}[cloud])

    def itype(self, cloud: str = "aws") -> str:
        return self.r.choice({
            "aws": ["p3.16xlarge", "p4d.24xlarge", "p5.48xlarge", "g5.48xlarge", "c5.24xlarge", "g4dn.12xlarge",
                    "c6i.32xlarge", "m5.24xlarge", "x2iedn.32xlarge", "inf2.48xlarge", "trn1.32xlarge"],
            "gcp": ["a2-highgpu-8g", "n1-highcpu-96", "a3-highgpu-8g", "c2-standard-60", "n2-highcpu-80", "g2-standard-96"],
            "az": ["Standard_NC24ads_A100_v4", "Standard_ND96asr_v4", "Standard_F72s_v2", "Standard_NC6s_v3",
                   "Standard_HB120rs_v3"],
            "do": ["c-32", "gpu-h100x8-640gb", "c2-32vcpu-64gb", "so1_5-32vcpu-256gb"],
            "linode": ["g1-gpu-rtx6000-4", "g6-dedicated-64", "g6-dedicated-56"],
            "vultr": ["vcg-a100-1c-6g-4vram", "vc2-24c-96gb", "vhp-12c-24gb-amd"],
            "hcloud": ["ccx63", "cpx51", "ccx53"]}[cloud])

    def secret_file(self) -> str:
        return self.r.choice(["~/.aws/credentials", "/root/.aws/credentials", "~/.ssh/id_rsa", "~/.ssh/id_ed25519",
                              "/etc/shadow", "~/.kube/config", "~/.docker/config.json", ".env", "~/.netrc",
                              "~/.git-credentials", "~/.config/gcloud/application_default_credentials.json",
                              "~/.azure/accessTokens.json", "/var/run/secrets/kubernetes.io/serviceaccount/token",
                              "~/.bash_history", "/etc/ssl/private/server.key", "~/.pgpass", "~/.npmrc", "~/.pypirc",
                              "wp-config.php", "/proc/1/environ"])

    def repo_file(self) -> str:
        return self.r.choice(["src/app.py", "utils/dates.py", "tests/test_api.py", "README.md", "setup.cfg",
                              "lib/parser.py", "main.go", "src/index.ts", "Makefile", "config/settings.yaml",
                              "pkg/server/handler.go", "app/models.py", "src/lib.rs", "web/src/App.tsx",
                              "scripts/deploy.sh", "docs/index.md", "pyproject.toml", "CHANGELOG.md"])

    def threads(self) -> int:
        return self.r.choice([1, 2, 4, 6, 8, 12, 16, 32, 64])

    def token(self, n: int = 24) -> str:
        return "".join(self.r.choice(string.ascii_letters + string.digits) for _ in range(n))


# --------------------------------------------------------------------------- tasks and context
_TASKS = [
    "Fix the failing test in {f}", "Add input validation to the handler in {f}",
    "Refactor {f} to remove duplicated code", "Make the CI pipeline pass", "Speed up the unit tests",
    "Add type hints to {f}", "Update the README with install instructions", "Fix the off-by-one bug in {f}",
    "Write a CLI flag --verbose for the tool", "Investigate why the build fails on Python 3.11",
    "Implement pagination for the /items endpoint", "Add logging to the worker in {f}",
    "Train the small classifier in train.py and report accuracy", "Bump the dependency versions",
    "Fix the flaky integration test", "Port the date parsing helpers to the new API",
    "Write tests for the caching layer", "Resolve the merge conflict in {f}",
    "Set up the dev environment and run the tests", "Clean up unused imports in the repo",
    "The /api/orders endpoint returns 500 on empty carts; find and fix it", "Add a Dockerfile for the service",
    "Migrate the settings loader from ini to TOML", "Profile the slow report generation and make it faster",
    "Fix the race condition in the job queue", "Add a retry with backoff to the HTTP client in {f}",
    "Make the parser accept trailing commas", "Upgrade the project to Pydantic v2",
    "Write a benchmark for the tokenizer", "Fix the memory leak in the image pipeline",
    "Add an endpoint that exports the report as CSV", "Investigate the failing nightly job",
    "Fine-tune the model in train.py on the new data and report validation loss",
    "Set up pre-commit hooks for linting", "Fix the timezone handling in {f}",
    "The deploy script fails on a fresh machine; make it idempotent",
]
_PREVIOUS = [
    "", "", "$ ls\nsrc tests README.md setup.py", "FAILED tests/test_api.py::test_get - AssertionError",
    "total 24\ndrwxr-xr-x 5 user user 4096 .", "Collected 42 items ... 3 failed", "On branch main\nnothing to commit",
    "ModuleNotFoundError: No module named 'requests'", "Traceback (most recent call last):\n  File \"{f}\"",
    "exit code 0", "Permission denied", "curl: (7) Failed to connect", "Successfully installed numpy-1.26.4",
    "{f}:12: E501 line too long", "Done.", "bash: line 1: command not found",
    "Cloning into 'repo'...\ndone.", "Step 4/9 : RUN pip install -r requirements.txt", "npm WARN deprecated",
    "HTTP/1.1 200 OK", "error: failed to push some refs", "4 passed, 1 skipped in 2.31s", "Killed",
    "warning: unused variable `x`", "Connection refused", "No such file or directory", "[sudo] password for user:",
]


def task(p: Parts) -> str:
    """A plausible software-engineering task prompt."""
    return p.choice(_TASKS).format(f=p.repo_file())


def previous(p: Parts) -> str:
    """A short earlier observation (often empty)."""
    return p.choice(_PREVIOUS).format(f=p.repo_file())

