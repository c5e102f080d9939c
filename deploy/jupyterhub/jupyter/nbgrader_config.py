# nbgrader settings of every server the hub starts (students', graders', the formgrader
# service): the shared exchange, one folder per course in it, and course membership read
# from the hub's groups (nbgrader-<course> for students, formgrade-<course> for graders).
import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821

c.Exchange.root = os.path.join(os.environ.get("NBGRADER_SRV", "/srv/nbgrader"), "exchange")
c.Exchange.path_includes_course = True
c.Authenticator.plugin_class = JupyterHubAuthPlugin
