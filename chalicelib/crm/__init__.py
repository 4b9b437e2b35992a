"""The CRM: contacts, companies, associates, groups, selections, projects, activities."""
