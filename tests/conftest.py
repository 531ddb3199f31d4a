import pytest
import torch

from tests.browser import CHROMIUM, CHROMIUM_ARGS, free_port, start_server

# The tests pool tiny tensors, where torch's intra-op threads only compete with each other.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def app_url():
    port = free_port()
    process = start_server(port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args():
    return {"viewport": {"width": 1400, "height": 1000}}
