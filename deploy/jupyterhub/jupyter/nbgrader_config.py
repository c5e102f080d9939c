# nbgrader settings of every server the hub starts (students', graders', the formgrader
# service): the shared exchange, one folder per course in it, and course membership read
# from the hub's groups (nbgrader-<course> for students, formgrade-<course> for graders).
# The instructor's commands outside the hub (a shell on the machine: nbgrader collect,
# python -m autograder grade) have no hub token and do without the hub's groups.
import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821

c.Exchange.root = os.path.join(os.environ.get("NBGRADER_SRV", "/srv/nbgrader"), "exchange")
c.Exchange.path_includes_course = True
if os.environ.get("JUPYTERHUB_API_TOKEN"):
    c.Authenticator.plugin_class = JupyterHubAuthPlugin
