"""The course machinery of ecg-course: generation of the student side, graders, nbgrader course.

* ``python -m autograder generate``          regenerate ``ecglab/`` and ``lessons/`` from ``solutions/``
* ``python -m autograder check``             grade an ``ecglab`` against the reference
* ``python -m autograder lessons``           run every lesson notebook
* ``python -m autograder nbgrader build DIR`` write the nbgrader course
* ``python -m autograder demo``              the whole course, built and demonstrated end to end

From Python: ``autograder.grade(impl_dir, lesson=1)`` returns a :class:`~autograder.grader.Report`.
"""


def grade(*args, **kwargs):
    """See :func:`autograder.grader.grade`."""
    from .grader import grade as _grade
    return _grade(*args, **kwargs)
