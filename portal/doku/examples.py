"""DOKU's own published examples: the Alfa for Insurance guide's inquiry request and response,
and the Alfa O2O notification DOKU's plugins parse (docs/protocol.md). Used as the
examples of the OpenAPI document and as test data; never as defaults for real traffic."""

GUIDE_INQUIRY_REQUEST = {
    "service": {"id": "ONLINE_TO_OFFLINE"},
    "acquirer": {"id": "ALFA"},
    "channel": {"id": "ONLINE_TO_OFFLINE_ALFA"},
    "online_to_offline_info": {"payment_code": "8896512345678123"},
    "online_to_offline_inquiry": {
        "date": "2020-08-11T08:45:42Z",
        "identifier": [
            {"name": "AGENT_ID", "value": "100001"},
            {"name": "AGENT_STORE_ID", "value": "10000232"},
            {"name": "AGENT_TRX_ID", "value": "c1aa04bf421e5b38c3d18933e9994d3f289def65"},
        ],
    },
}
GUIDE_INQUIRY_RESPONSE = {
    "order": {"invoice_number": "INV-20210125-0001", "amount": 150000},
    "online_to_offline_info": {
        "payment_code": "8896512345678123",
        "info": "Thank for shopping in our store",
    },
    "online_to_offline_inquiry": {"status": "success"},
    "customer": {"name": "Anton Budiman", "email": "anton@example.com"},
    "alfa_info": {"receipt": {"footer_message": "Call Center 021 555-0525"}},
    "additional_info": {
        "insurance_info": {
            "policy_type": "Dana Pendidikan",
            "policy_number": "9090901234",
            "policy_account_name": "Andreas",
            "policy_status": "aktif",
            "bill_due_date": "21 May 2021",
        }
    },
}
DOKU_NOTIFICATION = {
    "service": {"id": "ONLINE_TO_OFFLINE"},
    "acquirer": {"id": "ALFA"},
    "channel": {"id": "ONLINE_TO_OFFLINE_ALFA"},
    "transaction": {
        "status": "SUCCESS",
        "date": "2021-08-12T07:06:28Z",
        "original_request_id": "5b8e438f-fac1-4103-9e0e-ebfdc38b5acb",
    },
    "order": {"invoice_number": "INV-20210125-0001", "amount": 150000},
    "online_to_offline_info": {"payment_code": "8896512345678123"},
    "online_to_offline_payment": {
        "identifier": [
            {"name": "AGENT_ID", "value": "ALFAMART"},
            {"name": "AGENT_STORE_ID", "value": "TZ01"},
            {"name": "AGENT_TRX_ID", "value": "1246"},
        ]
    },
    "additional_info": {},
}
