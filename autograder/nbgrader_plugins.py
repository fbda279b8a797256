"""Two nbgrader preprocessors that keep one student's damaged notebook from costing more than it should.

nbgrader 0.9's stock behaviour, seen on this course's notebooks:

* a check cell copied by the student (two cells with one ``grade_id``): ``DeduplicateIds`` empties
  the copy's metadata to ``{}``, which ``CheckCellMetadata`` then rejects as an old format: the
  autograde run aborts for *every* student after this one;
* a check cell deleted by the student: with ``OverwriteCells.add_missing_cells`` the cell is put
  back, but the insertion raises ``KeyError`` when the cell before it in the source is a locked
  cell that is not graded (a markdown cell, the set-up cell).

With these two, the duplicate loses its grading metadata (only one copy is graded, from the
instructor's source), and a deleted check cell is put back after the nearest earlier cell that is
still there, and graded as usual.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds, OverwriteCells


class DeduplicateIdsKeepingLast(DeduplicateIds):
    """Drop the nbgrader metadata of every repeated ``grade_id`` except its first occurrence."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists more than once; grading only one", grade_id)
            del cell.metadata["nbgrader"]  # a plain cell, not an empty (invalid) metadata dict
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class OverwriteCellsRestoringMissing(OverwriteCells):
    """Put deleted grade cells back after the nearest earlier source cell the notebook still has."""

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source_nb.source_cells]
        solution_ids = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
            if grade_cell.name in present:
                continue
            self.log.warning("Grade cell %s is missing; putting it back", grade_cell.name)
            k = order.index(grade_cell.name)
            restored = self.missing_cell_transform(source_nb.source_cells[k], grade_cell.max_score,
                                                   is_solution=grade_cell.name in solution_ids)
            position = next((present[name] + 1 for name in reversed(order[:k]) if name in present), 0)
            nb.cells.insert(position, restored)
        return nb, resources
