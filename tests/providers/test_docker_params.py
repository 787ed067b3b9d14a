"""docker-run flags to SDK arguments: a table of what is read, and of what is refused."""

from __future__ import annotations

import pytest

from runner.providers.docker.params import ParamError, parse_parameters, sdk_arguments

PARSED = [
    (["-p", "8080:80"], {"ports": {"80/tcp": 8080}}),
    (["-p 127.0.0.1:8080:80/udp"], {"ports": {"80/udp": ["127.0.0.1", 8080]}}),
    (["--publish=9000"], {"ports": {"9000/tcp": None}}),
    (["-e", "A=1", "--env=B=x=y"], {"environment": {"A": "1", "B": "x=y"}}),
    (["-v", "data:/data", "-v /srv:/srv:ro"], {"volumes": ["data:/data", "/srv:/srv:ro"]}),
    (["--rm"], {"auto_remove": True}),
    (["--network", "none"], {"network_mode": "none"}),
    (["--memory=256m", "--memory-swap", "256m"], {"mem_limit": "256m", "memswap_limit": "256m"}),
    (["--cpus", "1.5"], {"nano_cpus": 1_500_000_000}),
    (["--pids-limit 64"], {"pids_limit": 64}),
    (["--cap-drop", "ALL", "--cap-add", "CHOWN"], {"cap_drop": ["ALL"], "cap_add": ["CHOWN"]}),
    (["--security-opt", "no-new-privileges"], {"security_opt": ["no-new-privileges"]}),
    (["--init", "--read-only"], {"init": True, "read_only": True}),
    (["--user", "1000:1000", "-w", "/app"], {"user": "1000:1000", "working_dir": "/app"}),
    (["--tmpfs", "/tmp:size=64m", "--tmpfs=/run"], {"tmpfs": {"/tmp": "size=64m", "/run": ""}}),
    (["--ulimit", "nofile=1024:2048"],
     {"ulimits": [{"name": "nofile", "soft": 1024, "hard": 2048}]}),
    (["--entrypoint", "/bin/sh -c"], {"entrypoint": ["/bin/sh", "-c"]}),
    (["--label", "team=a", "-l", "x=y"], {"labels": {"team": "a", "x": "y"}}),
    (["--hostname", "box", "--platform", "linux/amd64"],
     {"hostname": "box", "platform": "linux/amd64"}),
    (["--add-host", "db:127.0.0.1", "--shm-size", "64m"],
     {"extra_hosts": {"db": "127.0.0.1"}, "shm_size": "64m"}),
    (["--restart", "on-failure:3"], {"restart_policy": {"Name": "on-failure",
                                                        "MaximumRetryCount": 3}}),
    (["-it", "-d"], {"stdin_open": True, "tty": True}),
    (["-eA=1", "-p8080:80"], {"environment": {"A": "1"}, "ports": {"80/tcp": 8080}}),
    ([], {}),
]


@pytest.mark.parametrize("flags,expected", PARSED, ids=[" ".join(f) or "none" for f, _ in PARSED])
def test_flags_become_sdk_arguments(flags, expected):
    assert parse_parameters(flags) == expected


REFUSED = [
    (["--name", "x"], "--name is not allowed: container names are deterministic (set "
                      "container_name on the step instead)"),
    (["--privileged"], "--privileged is not allowed: taskform does not start privileged "
                       "containers"),
    (["-p"], "-p needs a value"),
    (["--rm=yes"], "--rm takes no value, got 'yes'"),
    (["-e", "NOVALUE"], "expected an environment variable as KEY=VALUE, got 'NOVALUE'"),
    (["-p", "abc"], "expected a port mapping like 8080:80 or 127.0.0.1:8080:80, got 'abc'"),
    (["-v", "relative"], "expected a volume like NAME:/path, /host/path:/path or "
                         "/host/path:/path:ro, got 'relative'"),
    (["--cpus", "many"], "expected a number of CPUs like 1.5, got 'many'"),
    (["--pids-limit", "x"], "expected a whole number, got 'x'"),
    (["--label", "taskform.address=x"], "label 'taskform.address': taskform.* labels are set "
                                        "by taskform itself"),
    (["--restart", "sometimes"], "expected no, always, unless-stopped or on-failure[:N], got "
                                 "'sometimes'"),
    (["-v 'unclosed"], "cannot split \"-v 'unclosed\": No closing quotation"),
]


@pytest.mark.parametrize("flags,message", REFUSED, ids=[" ".join(f) for f, _ in REFUSED])
def test_bad_flags_are_named(flags, message):
    with pytest.raises(ParamError) as err:
        parse_parameters(flags)
    assert str(err.value) == message


def test_unknown_flag_lists_the_supported_ones():
    with pytest.raises(ParamError) as err:
        parse_parameters(["--gpus", "all"])
    text = str(err.value)
    assert text.startswith("unsupported docker run flag '--gpus'; supported: --add-host, --cap-add, ")
    assert "--security-opt" in text and "--pids-limit" in text


def test_a_positional_argument_is_not_taken_for_the_image():
    with pytest.raises(ParamError) as err:
        parse_parameters(["%%IMAGETAG%%"])
    assert str(err.value).startswith("unexpected argument '%%IMAGETAG%%' (the image and command "
                                     "are separate settings); supported: ")


def test_sdk_arguments_builds_sdk_types():
    from docker.types import Ulimit

    args = sdk_arguments(parse_parameters(["--ulimit", "nproc=64", "-p", "127.0.0.1:80:80"]))
    assert args["ulimits"] == [Ulimit(name="nproc", soft=64, hard=64)]
    assert args["ports"] == {"80/tcp": ("127.0.0.1", 80)}
