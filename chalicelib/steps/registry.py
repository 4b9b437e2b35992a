"""The one list of step types. Adding a type: a new module in steps/ and one line here."""

from __future__ import annotations

from chalicelib.steps import (
    add_to_list,
    create_follow_up,
    create_request,
    create_sale,
    distribute_to_owner,
    notify_email,
    notify_sms,
    remove_from_list,
    run_script,
    send_email,
    send_sms,
    split,
    update_contact,
    wait_for_action,
    wait_time,
)
from chalicelib.steps.base import StepType

STEP_TYPES: dict[str, StepType] = {
    step.name: step
    for step in (
        send_email.STEP,
        send_sms.STEP,
        wait_time.STEP,
        wait_for_action.STEP,
        split.STEP,
        update_contact.STEP,
        add_to_list.STEP,
        remove_from_list.STEP,
        distribute_to_owner.STEP,
        create_follow_up.STEP,
        create_request.STEP,
        create_sale.STEP,
        run_script.STEP,
        notify_email.STEP,
        notify_sms.STEP,
    )
}
